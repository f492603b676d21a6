"""The one exception hierarchy of mrdtrack.

Every error that a user can cause, or that a rule can raise about a sample, is one of
these. The CLI maps them to exit codes and the web app to HTTP statuses, each in one
place; nothing else catches them to re-word them.

::

    MrdtrackError                 base; never raised directly
    ├── InputError                a value the user gave is missing, malformed or out of range
    │   └── ImportValidationError a row/offset of an imported file is invalid (all-or-nothing)
    ├── QcError                   inputs are valid but the sample or run fails quality control
    ├── ProtocolError             a protocol or profile document is malformed or inconsistent
    ├── NotFoundError             a named record, protocol or profile does not exist
    └── PermissionDeniedError     the acting user may not do this

``InputError`` carries the field, the value and what is accepted, so a message can
always say all three; ``hint`` says what to do about it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ImportValidationError",
    "InputError",
    "MrdtrackError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProtocolError",
    "QcError",
]


class MrdtrackError(Exception):
    """Base class of every error mrdtrack raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(MrdtrackError):
    """A value given by the user is missing, malformed or outside its accepted range.

    Parameters
    ----------
    field
        The name of the input as the user knows it (``control_copies``, ``--weight-kg``).
    value
        The value as given (``None`` when it is missing).
    expected
        What is accepted, in words: ``"a number > 0"``, ``"one of: mrd, relapsed"``.
    hint
        What to do about it; optional.
    """

    def __init__(self, field: str, value: Any, expected: str, hint: str | None = None) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        self.hint = hint
        shown = "missing" if value is None else repr(value)
        message = f"{field}: got {shown}; expected {expected}"
        if hint:
            message += f". {hint[:1].upper()}{hint[1:]}"
        super().__init__(message)


class ImportValidationError(InputError):
    """A record of an imported file is invalid; the whole import is refused.

    ``location`` names the file and the row (tabular files) or byte offset (binary
    files) so that the user can find the problem.
    """

    def __init__(
        self,
        field: str,
        value: Any,
        expected: str,
        *,
        location: str,
        hint: str | None = None,
    ) -> None:
        super().__init__(field, value, expected, hint)
        self.location = location
        self.message = f"{location}: {self.message}"
        self.args = (self.message,)


class QcError(MrdtrackError):
    """The inputs are valid but fail quality control (a curve, a run, a sample).

    ``reasons`` lists every failed criterion in words.
    """

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


class ProtocolError(MrdtrackError):
    """A protocol or profile document is malformed: names the source, the key and the rule."""

    def __init__(self, source: str, key: str, expected: str) -> None:
        self.source = source
        self.key = key
        self.expected = expected
        super().__init__(f"{source}: {key}: expected {expected}")


class NotFoundError(MrdtrackError):
    """A named thing (patient, protocol, profile) does not exist."""

    def __init__(self, kind: str, name: str, known: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.name = name
        self.known = known
        message = f"no {kind} named {name!r}"
        if known:
            message += f"; known: {', '.join(known)}"
        super().__init__(message)


class PermissionDeniedError(MrdtrackError):
    """The acting user lacks the right for this action."""
