"""Generic CTCAE grade records and the grading vocabulary check."""

from typing import Any

import pytest

from mrdtrack.errors import InputError
from mrdtrack.grading import CtcaeGrade, CtcaeVersion
from mrdtrack.inputs import require_choice


def test_record() -> None:
    # A stored string version (as read from the registry) is converted to the enum.
    version: Any = "5.0"
    record = CtcaeGrade("  Cytokine release syndrome ", 3, version, meddra_code="12345678")
    assert record.term == "Cytokine release syndrome"
    assert record.version is CtcaeVersion.V5_0
    assert record.describe() == "Cytokine release syndrome, grade 3 (CTCAE v5.0)"
    assert record.meaning.startswith("severe")
    assert not record.fatal
    assert CtcaeGrade("Sepsis", 5, CtcaeVersion.V4_03).fatal
    assert record.to_dict()["system"] == "CTCAE-v5.0"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"term": "", "grade": 2, "version": "5.0"}, "term"),
        ({"term": "Fever", "grade": 0, "version": "5.0"}, "grade"),
        ({"term": "Fever", "grade": 6, "version": "5.0"}, "grade"),
        ({"term": "Fever", "grade": 2.5, "version": "5.0"}, "grade"),
        ({"term": "Fever", "grade": True, "version": "5.0"}, "grade"),
        ({"term": "Fever", "grade": 2, "version": "7"}, "version"),
        ({"term": "Fever", "grade": 2, "version": "5.0", "meddra_code": "123"}, "meddra_code"),
    ],
)
def test_validation(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        CtcaeGrade(**kwargs)
    assert caught.value.field == field


def test_require_choice_lists_the_values() -> None:
    assert require_choice("version", " 4.03 ", CtcaeVersion) is CtcaeVersion.V4_03
    with pytest.raises(InputError, match=r"one of: 3\.0, 4\.0, 4\.03, 5\.0, 6\.0"):
        require_choice("version", 5, CtcaeVersion)
