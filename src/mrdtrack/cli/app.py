"""The root Typer application and the one error boundary of the CLI."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import typer
from typer.main import get_command

from mrdtrack.cli import cohort as cohort_commands
from mrdtrack.cli import data as data_commands
from mrdtrack.cli import evidence as evidence_commands
from mrdtrack.cli import grading as grading_commands
from mrdtrack.cli import lab as lab_commands
from mrdtrack.cli import mrd as mrd_commands
from mrdtrack.cli import protocol as protocol_commands
from mrdtrack.cli import registry as registry_commands
from mrdtrack.cli import report as report_commands
from mrdtrack.cli import survival as survival_commands
from mrdtrack.cli import therapy as therapy_commands
from mrdtrack.cli import web as web_commands
from mrdtrack.cli.output import (
    EXIT_INPUT_ERROR,
    EXIT_INTERNAL_ERROR,
    EXIT_NOT_EVALUABLE,
    fail_line,
)
from mrdtrack.cli.tour import tour_command
from mrdtrack.errors import InputError, MrdtrackError, QcError
from mrdtrack.settings import load_settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="mrdtrack",
    help="MRD-guided immunotherapy of B-ALL: MRD calculators, protocols, registry, outcomes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(mrd_commands.app, name="mrd")
app.add_typer(protocol_commands.app, name="protocol")
app.add_typer(grading_commands.app, name="grade")
app.add_typer(therapy_commands.dose_app, name="dose")
app.add_typer(therapy_commands.calendar_app, name="calendar")
app.command("tour")(tour_command)
app.command("init")(registry_commands.init_command)
app.command("demo")(registry_commands.demo_command)
app.command("synth")(registry_commands.synth_command)
app.command("backup")(registry_commands.backup_command)
app.command("restore")(registry_commands.restore_command)
app.add_typer(registry_commands.audit_app, name="audit")
app.add_typer(survival_commands.app, name="survival")
app.add_typer(cohort_commands.app, name="cohort")
app.command("serve")(web_commands.serve_command)
app.add_typer(web_commands.user_app, name="user")
app.add_typer(lab_commands.app, name="lab")
app.add_typer(report_commands.report_app, name="report")
app.add_typer(report_commands.plot_app, name="plot")
app.command("import")(data_commands.import_command)
app.command("imports")(data_commands.imports_command)
app.command("export")(data_commands.export_command)
app.command("dictionary")(data_commands.dictionary_command)
app.add_typer(evidence_commands.app, name="evidence")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error is mapped here and only here."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = get_command(app)
    try:
        result = command.main(args=args, prog_name="mrdtrack", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        fail_line("aborted")
        return EXIT_INPUT_ERROR
    except InputError as error:
        fail_line(_as_option(error, args))
        return EXIT_INPUT_ERROR
    except QcError as failed:
        fail_line(str(failed))
        return EXIT_NOT_EVALUABLE
    except MrdtrackError as error:
        fail_line(str(error))
        return EXIT_INPUT_ERROR
    except typer.TyperException as usage:
        # Typer's own parsing errors: missing options, unknown choices, bad numbers.
        message = " ".join(usage.format_message().split())
        fail_line(f"{message} (see `mrdtrack {' '.join(_command_words(args))} --help`)")
        return getattr(usage, "exit_code", EXIT_INPUT_ERROR) or EXIT_INPUT_ERROR
    except Exception as unexpected:  # the boundary: a bug must not show a traceback
        if load_settings(os.environ).debug:
            traceback.print_exc()
        fail_line(
            f"internal error ({type(unexpected).__name__}): {unexpected}. This is a bug in "
            "mrdtrack; please report it with the command you ran (MRDTRACK_DEBUG=1 shows details)."
        )
        return EXIT_INTERNAL_ERROR
    return result if isinstance(result, int) else 0


def _as_option(error: InputError, args: Sequence[str]) -> str:
    """Name the field as the option the user typed (``--control-copies``), when it was one."""
    option = "--" + error.field.replace("_", "-")
    if error.field.isidentifier() and any(a == option or a.startswith(option + "=") for a in args):
        return str(error).replace(error.field, option, 1)
    return str(error)


def _command_words(args: Sequence[str]) -> list[str]:
    words: list[str] = []
    for arg in args:
        if arg.startswith("-"):
            break
        words.append(arg)
    return words[:2]


def run() -> None:  # pragma: no cover - the console-script shim
    """Console-script entry point."""
    sys.exit(main())
