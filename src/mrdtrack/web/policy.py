"""Who may do what: the one role × action table of the web application and its API.

Every route names one :class:`Action`; :func:`is_allowed` answers from :data:`POLICY`
and nothing else decides (reliability goal 11). The roles (issue 7):

* ``admin`` — runs the installation; every action;
* ``clinician`` — reads patients, enters MRD results, uses the calculators;
* ``data_manager`` — reads patients, enters and corrects data;
* ``clinician`` and ``data_manager`` (and ``admin``) alone enter patients, diagnoses,
  adverse events and outcomes;
* ``data_manager`` (and ``admin``) alone import cohort files and see the import jobs;
* ``lab`` — reads patients and enters MRD results (the lab's own measurements);
* ``statistician`` — de-identified data only: the cohort dashboard and the calculators,
  never a patient-level page;
* ``monitor`` — read-only: patients, cohort, calculators; writes nothing.

Site isolation is not a role: a user attached to a site sees only that site's patients
(:mod:`mrdtrack.web.patients`), whatever the role.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from mrdtrack.errors import InputError

__all__ = ["POLICY", "Action", "Role", "is_allowed", "require_role"]


class Role(StrEnum):
    """The roles a user can hold (the stored ``app_user.role`` codes)."""

    ADMIN = "admin"
    CLINICIAN = "clinician"
    DATA_MANAGER = "data_manager"
    LAB = "lab"
    STATISTICIAN = "statistician"
    MONITOR = "monitor"


class Action(StrEnum):
    """What a route does, as far as authorization is concerned."""

    PATIENT_READ = "patient.read"
    """Patient-level (pseudonymous) data: the patient list and pages."""
    MRD_WRITE = "mrd.write"
    """Enter an MRD result for a patient."""
    PATIENT_WRITE = "patient.write"
    """Enter clinical data: new patients with their diagnosis, adverse events, outcomes."""
    COHORT_READ = "cohort.read"
    """Aggregate, de-identified cohort views."""
    TOOLS_USE = "tools.use"
    """The calculators (CRS grade, blinatumomab dose and calendar); no patient data."""
    ACCOUNT_SELF = "account.self"
    """The signed-in user's own account (change password)."""
    IMPORT_RUN = "import.run"
    """Import cohort files (CSV, XLSX, REDCap) into the registry; see the import jobs."""
    ADMIN = "admin.manage"
    """Manage the installation: user accounts (role, site, status, password reset), sites."""


_ALL = frozenset(Role)

POLICY: Mapping[Action, frozenset[Role]] = MappingProxyType(
    {
        Action.PATIENT_READ: frozenset(
            {Role.ADMIN, Role.CLINICIAN, Role.DATA_MANAGER, Role.LAB, Role.MONITOR}
        ),
        Action.MRD_WRITE: frozenset({Role.ADMIN, Role.CLINICIAN, Role.DATA_MANAGER, Role.LAB}),
        Action.PATIENT_WRITE: frozenset({Role.ADMIN, Role.CLINICIAN, Role.DATA_MANAGER}),
        Action.COHORT_READ: frozenset(
            {Role.ADMIN, Role.CLINICIAN, Role.DATA_MANAGER, Role.STATISTICIAN, Role.MONITOR}
        ),
        Action.TOOLS_USE: _ALL,
        Action.ACCOUNT_SELF: _ALL,
        Action.IMPORT_RUN: frozenset({Role.ADMIN, Role.DATA_MANAGER}),
        Action.ADMIN: frozenset({Role.ADMIN}),
    }
)
"""Action → the roles allowed to perform it; a role not listed is refused (HTTP 403)."""


def is_allowed(role: Role, action: Action) -> bool:
    """Whether ``role`` may perform ``action`` (:data:`POLICY`)."""
    return role in POLICY[action]


def require_role(value: object) -> Role:
    """``value`` as a :class:`Role`, or :class:`InputError` naming the roles."""
    try:
        return Role(str(value))
    except ValueError:
        raise InputError("role", value, f"one of: {', '.join(r.value for r in Role)}") from None
