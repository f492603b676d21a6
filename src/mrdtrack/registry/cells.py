"""Cells of the tabular import and export: what each type accepts; inert text out.

:func:`parse_cell` is the one definition of what a cell of each
:class:`~mrdtrack.registry.dictionary.ColumnType` accepts, for CSV text and for XLSX
values alike. Its counterpart :func:`neutralize` is applied by every export to text
cells: text starting with ``= + - @``, a tab, a carriage return or NUL gets a leading
``'`` (reliability goal 24; CWE-1236), which :func:`parse_cell` removes again, so that
values survive an export → import round trip unchanged.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.registry.dictionary import EARLIEST_DATE, LATEST_DATE, ColumnSpec, ColumnType

__all__ = ["FORMULA_TRIGGERS", "neutralize", "parse_cell"]

FORMULA_TRIGGERS = frozenset("=+-@\t\r\0")
"""Leading characters that make a spreadsheet treat text as a formula (CWE-1236)."""


def neutralize(text: str) -> str:
    """Prefix ``'`` to text that a spreadsheet would read as a formula.

    Text already starting with ``'`` before such a character gets one more, so that
    :func:`parse_cell` can always remove exactly one.
    """
    if text.lstrip("'")[:1] in FORMULA_TRIGGERS and text:
        return "'" + text
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INTEGER = re.compile(r"[+-]?\d+(?:\.0*)?")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_CODE_MAPS: dict[tuple[str, ...], dict[str, str]] = {}
_LARGEST_INTEGER = 2**31 - 1  # SQL INTEGER on PostgreSQL


def _unescape(text: str) -> str:
    """Undo :func:`neutralize`."""
    if text.startswith("'") and text.lstrip("'")[:1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def _fail(column: ColumnSpec, raw: object, hint: str | None = None) -> InputError:
    return InputError(column.name, raw, column.expected, hint)


def _number_hint(text: str) -> str | None:
    if text.startswith(("=", "'=")):
        return "a formula is never evaluated: type the value itself"
    if "," in text:
        return "use a decimal point and no thousands separators (1234.5)"
    return None


def _as_text(column: ColumnSpec, raw: object) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float) and math.isfinite(raw):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, date):
        raise _fail(
            column,
            str(raw),
            "a spreadsheet turned this text into a date: format the column as text",
        )
    raise _fail(column, raw)


def _parse_text(column: ColumnSpec, raw: object) -> str:
    text = _as_text(column, raw)
    if _CONTROL.search(text):
        raise InputError(column.name, text, "text without control characters")
    if column.max_length is not None and len(text) > column.max_length:
        raise _fail(column, text)
    return text


def _parse_code(column: ColumnSpec, raw: object) -> str:
    text = _as_text(column, raw)
    codes = _CODE_MAPS.get(column.allowed)
    if codes is None:
        codes = _CODE_MAPS[column.allowed] = {c.casefold(): c for c in column.allowed}
    code = codes.get(text.casefold())
    if code is not None:
        return code
    if column.pattern and re.fullmatch(column.pattern, text.upper()):
        return text.upper()
    hint = "a formula is never evaluated: type the value itself" if text[:1] == "=" else None
    raise _fail(column, text, hint)


def _in_range(column: ColumnSpec, value: float) -> bool:
    low, high = column.minimum, column.maximum
    if low is not None and (value < low or (not column.min_inclusive and value == low)):
        return False
    return not (high is not None and (value > high or (not column.max_inclusive and value == high)))


def _parse_integer(column: ColumnSpec, raw: object) -> int:
    value: int
    if isinstance(raw, bool):
        raise _fail(column, raw)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and _INTEGER.fullmatch(raw):
        value = int(raw.split(".")[0])
    else:
        raise _fail(column, raw, _number_hint(raw) if isinstance(raw, str) else None)
    if abs(value) > _LARGEST_INTEGER:
        raise _fail(column, raw, "the registry stores whole numbers up to 2,147,483,647")
    if not _in_range(column, value):
        raise _fail(column, raw)
    return value


def _parse_float(column: ColumnSpec, raw: object, original: object) -> float:
    value: float
    if isinstance(raw, bool):
        raise _fail(column, original)
    if isinstance(raw, int | float) or (isinstance(raw, str) and _DECIMAL.fullmatch(raw)):
        value = float(raw)
    else:
        raise _fail(column, original, _number_hint(raw) if isinstance(raw, str) else None)
    if not math.isfinite(value) or not _in_range(column, value):
        raise _fail(column, original)
    return value


def _parse_number(column: ColumnSpec, raw: object) -> float:
    return _parse_float(column, raw, raw)


def _parse_date(column: ColumnSpec, raw: object) -> date:
    value: date
    if isinstance(raw, datetime):
        if raw.time() != datetime.min.time() or raw.tzinfo is not None:
            raise _fail(column, raw.isoformat(), "give the date without a time")
        value = raw.date()
    elif isinstance(raw, date):
        value = raw
    elif isinstance(raw, str) and _ISO_DATE.fullmatch(raw):
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            raise InputError(
                column.name, raw, "a calendar date (YYYY-MM-DD)", "this day does not exist"
            ) from None
    else:
        hint = (
            "a number is not a date: format the cell as a date or type YYYY-MM-DD"
            if isinstance(raw, int | float)
            else "write dates as YYYY-MM-DD"
        )
        raise _fail(column, raw, hint)
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise _fail(column, value.isoformat(), "check the year")
    return value


def _parse_boolean(column: ColumnSpec, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        lowered = raw.casefold()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _fail(column, raw)


def _parse_number_list(column: ColumnSpec, raw: object) -> tuple[float, ...]:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return (_parse_float(column, raw, raw),)
    if not isinstance(raw, str):
        raise _fail(column, raw)
    items = [item.strip() for item in raw.split(";")]
    if "" in items:
        raise _fail(column, raw, "an empty item: remove the extra ';'")
    return tuple(_parse_float(column, item, raw) for item in items)


def _parse_text_list(column: ColumnSpec, raw: object) -> tuple[str, ...]:
    text = _parse_text(column, raw)
    items = tuple(item.strip() for item in text.split(";"))
    if "" in items:
        raise _fail(column, raw, "an empty item: remove the extra ';'")
    return items


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def _parse_json_object(column: ColumnSpec, raw: object) -> dict[str, Any]:
    value: object = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw, parse_constant=_refuse_constant)
        except ValueError as error:
            raise _fail(column, raw, f"not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise _fail(column, raw)
    for key, item in value.items():
        scalar = item is None or isinstance(item, str | int | float | bool)
        if not isinstance(key, str) or not scalar:
            raise _fail(column, raw, f"{key!r} holds a list or an object: give one value")
        if isinstance(item, float) and not math.isfinite(item):
            raise _fail(column, raw, f"{key!r} is not a finite number")
        if isinstance(item, str) and _CONTROL.search(item):
            raise InputError(column.name, raw, "text without control characters")
    return value


_PARSERS: dict[ColumnType, Any] = {
    ColumnType.TEXT: _parse_text,
    ColumnType.CODE: _parse_code,
    ColumnType.INTEGER: _parse_integer,
    ColumnType.NUMBER: _parse_number,
    ColumnType.DATE: _parse_date,
    ColumnType.BOOLEAN: _parse_boolean,
    ColumnType.NUMBER_LIST: _parse_number_list,
    ColumnType.TEXT_LIST: _parse_text_list,
    ColumnType.JSON_OBJECT: _parse_json_object,
}


def parse_cell(column: ColumnSpec, raw: object) -> Any:
    """Read one cell of ``column``: the typed value, or ``None`` for an empty cell.

    ``raw`` is the text of a CSV cell, or the value of an XLSX cell (``str``, ``int``,
    ``float``, ``bool``, ``datetime``; a formula cell arrives as its formula text, which
    is never evaluated), or a mapping for a JSON column built by a REDCap mapping.
    Surrounding spaces are removed, and so is the ``'`` an export put before a formula
    trigger.

    Raises
    ------
    InputError
        Naming the column, the value as given and what the column accepts.
    """
    if isinstance(raw, str):
        raw = _unescape(raw.strip())
        if not raw:
            raw = None
    if raw is None:
        if column.required:
            raise InputError(column.name, None, f"a value ({column.name} is required)")
        return None
    return _PARSERS[column.type](column, raw)
