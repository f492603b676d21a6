"""What every rule result carries to show its basis: a versioned profile and its inputs.

Every clinical calculator (MRD, grading, dosing) reads its numbers from a profile that
names its source, version and effective date, and lists the values the domain rules tag
unconfirmed ([U]); results record ``"<id>@<version>"`` and their scalar inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

__all__ = ["ScalarValue", "VersionedProfile", "derive"]

ScalarValue = float | int | str | bool | None
"""A value of a result's ``inputs`` or ``details`` mapping (JSON-ready)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionedProfile:
    """What every profile carries: id, version, effective date, source, unconfirmed items."""

    id: str
    version: str
    effective_date: str
    source: str
    unconfirmed: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``"<id>@<version>"``, recorded with every result."""
        return f"{self.id}@{self.version}"


P = TypeVar("P", bound=VersionedProfile)


def derive(profile: P, **overrides: object) -> P:
    """A copy of ``profile`` with overridden values, labelled as derived from it."""
    changed = {k: v for k, v in overrides.items() if getattr(profile, k) != v}
    if not changed:
        return profile
    note = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
    return replace(profile, version=f"{profile.version}+{note}", **changed)  # type: ignore[arg-type]
