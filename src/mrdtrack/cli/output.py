"""Shared pieces of every CLI command: exit codes, option parsers, JSON and Rich output."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

__all__ = [
    "EXIT_INPUT_ERROR",
    "EXIT_INTERNAL_ERROR",
    "EXIT_NOT_EVALUABLE",
    "EXIT_OK",
    "JsonFlag",
    "emit_json",
    "fail_line",
    "key_value_table",
    "parse_number",
    "stdout_console",
]

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_INPUT_ERROR = 2
EXIT_NOT_EVALUABLE = 3

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
"""The ``--json`` flag every command takes: exactly one JSON object on stdout."""


def stdout_console() -> Console:
    """A Rich console on the current stdout (looked up late so tests can capture it)."""
    return Console(file=sys.stdout, soft_wrap=True)


def fail_line(message: str) -> None:
    """Write one error line on stderr."""
    sys.stderr.write(f"error: {' '.join(message.split())}\n")


def parse_number(raw: str) -> float:
    """Typer ``parser=`` for numeric options: any finite real number, ``1e-5`` included.

    Range checks belong to the domain functions, which name the field and the range.
    """
    try:
        value = float(raw)
    except ValueError:
        raise typer.BadParameter(f"got {raw!r}; expected a number such as 150 or 1e-5") from None
    if not math.isfinite(value):
        raise typer.BadParameter(f"got {raw!r}; expected a finite number")
    return value


def emit_json(payload: Mapping[str, Any]) -> None:
    """Print exactly one JSON object on stdout (NaN and infinity are refused, not printed)."""
    sys.stdout.write(json.dumps(payload, allow_nan=False, ensure_ascii=False) + "\n")


def key_value_table(title: str, rows: list[tuple[str, str]]) -> Table:
    """A two-column Rich table for human output."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("quantity", style="bold")
    table.add_column("value")
    for key, value in rows:
        table.add_row(key, value)
    return table
