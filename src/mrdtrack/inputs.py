"""Checks on user-supplied numbers, shared by every domain package.

Each check either returns the value (as ``float`` or ``int``) or raises
:class:`~mrdtrack.errors.InputError` naming the field, the value and the accepted range.
Booleans are refused as numbers; NaN and infinities are refused everywhere.
"""

from __future__ import annotations

import math
from enum import StrEnum
from numbers import Real
from typing import TypeVar

from mrdtrack.errors import InputError

__all__ = ["require_choice", "require_count", "require_fraction", "require_number"]


def _describe(
    minimum: float | None, maximum: float | None, min_inclusive: bool, max_inclusive: bool
) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'≥' if min_inclusive else '>'} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'≤' if max_inclusive else '<'} {maximum:g}")
    return "a number " + " and ".join(parts) if parts else "a finite number"


def require_number(
    field: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    hint: str | None = None,
) -> float:
    """Return ``value`` as a float if it is a finite real number within the given bounds."""
    expected = _describe(minimum, maximum, min_inclusive, max_inclusive)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InputError(field, value, expected, hint)
    number = float(value)
    if not math.isfinite(number):
        raise InputError(field, value, expected, hint)
    if minimum is not None and (number < minimum or (not min_inclusive and number == minimum)):
        raise InputError(field, value, expected, hint)
    if maximum is not None and (number > maximum or (not max_inclusive and number == maximum)):
        raise InputError(field, value, expected, hint)
    return number


def require_count(field: str, value: object, *, minimum: int = 0, hint: str | None = None) -> int:
    """Return ``value`` as an int if it is a whole number ≥ ``minimum`` (``3.0`` is accepted)."""
    expected = f"a whole number ≥ {minimum}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InputError(field, value, expected, hint)
    number = float(value)
    if not math.isfinite(number) or not number.is_integer() or number < minimum:
        raise InputError(field, value, expected, hint)
    return int(number)


def require_fraction(field: str, value: object, *, hint: str | None = None) -> float:
    """Return ``value`` if it is a fraction in (0, 1] (a sensitivity, a threshold)."""
    return require_number(field, value, minimum=0.0, maximum=1.0, min_inclusive=False, hint=hint)


E = TypeVar("E", bound=StrEnum)


def require_choice(field: str, value: object, choices: type[E]) -> E:
    """Return ``value`` as a member of the ``choices`` enum, accepting its string value.

    Raises
    ------
    InputError
        Naming ``field``, the value and every accepted value, when it is not one of them.
    """
    if isinstance(value, choices):
        return value
    if isinstance(value, str):
        try:
            return choices(value.strip())
        except ValueError:
            pass
    raise InputError(field, value, "one of: " + ", ".join(member.value for member in choices))
