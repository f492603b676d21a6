"""The examples in the therapy docstrings run and give what they show."""

import doctest
from types import ModuleType

import pytest

from mrdtrack.therapy import blinatumomab, bsa, calendar, dli, label, modifications


@pytest.mark.parametrize(
    "module",
    [bsa, blinatumomab, calendar, dli, label, modifications],
    ids=lambda m: m.__name__.rsplit(".", 1)[-1],
)
def test_docstring_examples(module: ModuleType) -> None:
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert outcome.attempted > 0
    assert outcome.failed == 0
