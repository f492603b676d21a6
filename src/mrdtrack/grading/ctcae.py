"""CTCAE adverse-event grade records, and the vocabulary check shared by the grading modules.

The Common Terminology Criteria for Adverse Events (NCI Cancer Therapy Evaluation
Program, https://ctep.cancer.gov) grade every adverse-event term 1–5 with one general
meaning (CTCAE v5.0, 27 November 2017, "Grades"):

=====  ================================================================================
grade  general meaning
=====  ================================================================================
1      mild; asymptomatic or mild symptoms; observation only; intervention not indicated
2      moderate; minimal, local or non-invasive intervention indicated
3      severe or medically significant but not immediately life-threatening
4      life-threatening consequences; urgent intervention indicated
5      death related to the adverse event
=====  ================================================================================

There is no grade 0: an event that did not happen is not recorded. The term-specific
criteria differ between versions (domain rules §7.2: early blinatumomab trials graded
CRS with CTCAE v4, later with v5.0 or ASTCT 2019), so a record always names its version.
This module stores grades assigned by a clinician or an external grader; it does not
hold the per-term criteria (those are licensed tables, not reproduced here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mrdtrack.errors import InputError
from mrdtrack.inputs import require_choice, require_count

__all__ = [
    "CTCAE_GRADE_MEANINGS",
    "CtcaeGrade",
    "CtcaeVersion",
    "require_choice",
]


class CtcaeVersion(StrEnum):
    """The CTCAE versions a record may name (the version changes term criteria)."""

    V3_0 = "3.0"
    V4_0 = "4.0"
    V4_03 = "4.03"
    V5_0 = "5.0"
    V6_0 = "6.0"


CTCAE_GRADE_MEANINGS: dict[int, str] = {
    1: "mild",
    2: "moderate",
    3: "severe or medically significant, not immediately life-threatening",
    4: "life-threatening consequences; urgent intervention indicated",
    5: "death related to the adverse event",
}
"""The general meaning of each CTCAE grade (CTCAE v5.0, "Grades"); term criteria refine it."""

_MEDDRA_CODE = re.compile(r"^\d{8}$")
_MAX_TERM_LENGTH = 200


@dataclass(frozen=True, slots=True)
class CtcaeGrade:
    """One adverse event graded with CTCAE: the term, the grade (1–5) and the version.

    Construction validates every field, so a record that exists is a valid record.

    Attributes
    ----------
    term
        The CTCAE term as written in the version used (e.g. ``"Cytokine release
        syndrome"``); surrounding white space is removed.
    grade
        1–5 (there is no grade 0 in CTCAE).
    version
        The CTCAE version; a string such as ``"5.0"`` is accepted and converted.
    meddra_code
        The term's 8-digit MedDRA code, when known.

    Examples
    --------
    >>> CtcaeGrade("Cytokine release syndrome", 3, "5.0").describe()
    'Cytokine release syndrome, grade 3 (CTCAE v5.0)'
    """

    term: str
    grade: int
    version: CtcaeVersion
    meddra_code: str | None = None

    def __post_init__(self) -> None:
        term = self.term.strip() if isinstance(self.term, str) else ""
        if not term or len(term) > _MAX_TERM_LENGTH:
            raise InputError(
                "term",
                self.term,
                f"a CTCAE term of 1–{_MAX_TERM_LENGTH} characters",
                "use the term as written in the CTCAE version named",
            )
        grade = require_count(
            "grade", self.grade, minimum=1, hint="CTCAE has no grade 0: record no event instead"
        )
        if grade > max(CTCAE_GRADE_MEANINGS):
            raise InputError("grade", self.grade, "a CTCAE grade 1–5")
        version = require_choice("version", self.version, CtcaeVersion)
        if self.meddra_code is not None and not (
            isinstance(self.meddra_code, str) and _MEDDRA_CODE.match(self.meddra_code)
        ):
            raise InputError("meddra_code", self.meddra_code, "an 8-digit MedDRA code or None")
        object.__setattr__(self, "term", term)
        object.__setattr__(self, "grade", grade)
        object.__setattr__(self, "version", version)

    @property
    def meaning(self) -> str:
        """The general meaning of the grade (the term's own criteria refine it)."""
        return CTCAE_GRADE_MEANINGS[self.grade]

    @property
    def fatal(self) -> bool:
        """Whether the grade is 5 (death related to the event)."""
        return self.grade == 5

    def describe(self) -> str:
        """``"<term>, grade <n> (CTCAE v<version>)"``."""
        return f"{self.term}, grade {self.grade} (CTCAE v{self.version.value})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "term": self.term,
            "grade": self.grade,
            "system": f"CTCAE-v{self.version.value}",
            "version": self.version.value,
            "meddra_code": self.meddra_code,
            "meaning": self.meaning,
        }
