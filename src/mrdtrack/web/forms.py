"""Reading submitted form text into typed values, naming the field when it is wrong.

The web boundary's counterpart of the CLI's option parsers: a number, a whole number, a
date or a choice is read here and refused with :class:`~mrdtrack.errors.InputError`
naming the form field; ranges and clinical plausibility are the domain functions' to
check (they name the field too), so the page can show the message next to the input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import TypeVar

from mrdtrack.errors import InputError

__all__ = ["choice", "count", "day", "flag", "number", "optional_number", "optional_text", "text"]

E = TypeVar("E", bound=StrEnum)
_MAX_TEXT = 200


def optional_text(form: Mapping[str, str], name: str) -> str | None:
    """The stripped text of ``name``, or ``None`` when empty or absent."""
    value = form.get(name, "").strip()
    if len(value) > _MAX_TEXT:
        raise InputError(name, value[:20] + "…", f"at most {_MAX_TEXT} characters")
    return value or None


def text(form: Mapping[str, str], name: str, expected: str) -> str:
    """The stripped, non-empty text of ``name``."""
    value = optional_text(form, name)
    if value is None:
        raise InputError(name, None, expected)
    return value


def optional_number(form: Mapping[str, str], name: str, expected: str) -> float | None:
    """A finite number (``1e-5`` and ``150`` alike), or ``None`` when left empty."""
    raw = optional_text(form, name)
    if raw is None:
        return None
    try:
        value = float(raw.replace(",", ""))
    except ValueError:
        raise InputError(name, raw, expected) from None
    if not math.isfinite(value):
        raise InputError(name, raw, expected)
    return value


def number(form: Mapping[str, str], name: str, expected: str) -> float:
    """A required finite number."""
    value = optional_number(form, name, expected)
    if value is None:
        raise InputError(name, None, expected)
    return value


def count(form: Mapping[str, str], name: str, expected: str, default: int | None = None) -> int:
    """A whole number (thousands separators allowed); ``default`` when left empty."""
    raw = optional_text(form, name)
    if raw is None:
        if default is None:
            raise InputError(name, None, expected)
        return default
    try:
        return int(raw.replace(",", "").replace("_", ""))
    except ValueError:
        raise InputError(name, raw, expected) from None


def day(form: Mapping[str, str], name: str) -> date:
    """A date written YYYY-MM-DD (what a date input submits)."""
    raw = text(form, name, "a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError(name, raw, "a date (YYYY-MM-DD)") from None


def flag(form: Mapping[str, str], name: str) -> bool:
    """A checkbox: present and not "off"/"false"/"0"."""
    return form.get(name, "").strip().lower() not in {"", "0", "false", "off", "no"}


def choice(form: Mapping[str, str], name: str, enum: type[E], default: E | None = None) -> E:
    """One of an enum's values."""
    raw = optional_text(form, name)
    if raw is None and default is not None:
        return default
    try:
        return enum(raw or "")
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InputError(name, raw, f"one of: {allowed}") from None
