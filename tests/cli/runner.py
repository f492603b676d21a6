"""Run the CLI in-process, as a user would, and capture what it prints."""

from __future__ import annotations

import pytest

from mrdtrack.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``mrdtrack ARGS…``."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
