"""The fuzzing contract of reliability goal 22: only the declared error, naming the file."""

from __future__ import annotations

import time
from collections.abc import Callable

from mrdtrack.errors import ImportValidationError, InputError


def only_declared_errors(
    call: Callable[[], object], name: str, *, input_errors: bool = False
) -> None:
    """Run ``call``; it may succeed or raise ImportValidationError naming ``name``.

    With ``input_errors`` a plain InputError (a well-formed file whose content does not fit
    the options) is accepted too. Anything else propagates and fails the test; so does an
    input that takes more than 2 s.
    """
    message = None
    started = time.perf_counter()
    try:
        call()
    except ImportValidationError as refused:
        message = str(refused)
    except InputError as refused:
        if not input_errors:
            raise
        message = name if refused.field else ""
    assert time.perf_counter() - started < 2.0
    assert message is None or name in message
