"""The dashboard snapshot: the columnar MRD response table equals the per-patient
classification it replaces, and the per-patient counts equal the ORM's."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from mrdtrack.mrd import MrdMethod, MrdResult, MrdStatus, mrd_response
from mrdtrack.protocols import DiseaseStatus
from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import Registry, open_registry
from mrdtrack.registry.models import (
    DiseaseAssessment,
    MrdResultRow,
    OutcomeEvent,
    Patient,
    Sample,
    Site,
    TreatmentCourse,
)
from mrdtrack.registry.records import demo_cohort, parse_cohort, to_mapping
from mrdtrack.registry.schema import init_registry
from mrdtrack.registry.store import load_cohort
from mrdtrack.registry.synth import synthetic_cohort
from mrdtrack.registry.vocabulary import OutcomeKind, Timepoint
from mrdtrack.web.cohort import RESPONSE_COLUMNS, build_dashboard
from mrdtrack.web.dashboard_data import CATEGORIES, read_snapshot, registry_version, response_counts
from mrdtrack.web.filters import THERAPIES, PatientFilter
from mrdtrack.web.patients import visibility
from mrdtrack.web.policy import Role
from mrdtrack.web.security import Principal
from mrdtrack.web.timeline import DiseaseEvents


def _viewer(site_id: int | None = None) -> Principal:
    return Principal(1, "stats", "Statistician", Role.STATISTICIAN, site_id)


def _registry(path: Path, *documents: object) -> Registry:
    registry = open_registry(f"sqlite:///{path / 'registry.sqlite3'}")
    init_registry(registry)
    with registry.transaction() as session:
        set_actor(session, AuditActor("test-setup"))
        for document in documents:
            load_cohort(session, document)  # type: ignore[arg-type]
    return registry


def _classifiable(row: Any) -> MrdResult:
    return MrdResult(
        method=MrdMethod(row.method),
        status=MrdStatus(row.status),
        detected=row.detected,
        mrd_fraction=row.mrd_fraction,
        sensitivity_fraction=row.sensitivity_fraction,
        quantifiable=row.quantifiable,
        reasons=(),
        qc_flags=(),
        inputs={},
        profile=row.profile,
        rule=row.rule,
    )


def _per_patient(registry: Registry, viewer: Principal) -> list[tuple[str, dict[str, int]]]:
    """The reference: the dashboard's former per-patient loop over ORM rows.

    Each patient's latest result per time point, classified one by one with
    :func:`mrd_response` and :meth:`DiseaseEvents.status_on`.
    """
    with registry.transaction() as session:
        visible = visibility(viewer)
        results = session.execute(
            select(
                Sample.patient_id,
                Sample.timepoint,
                Sample.sample_date,
                MrdResultRow.method,
                MrdResultRow.status,
                MrdResultRow.detected,
                MrdResultRow.quantifiable,
                MrdResultRow.mrd_fraction,
                MrdResultRow.sensitivity_fraction,
                MrdResultRow.profile,
                MrdResultRow.rule,
            )
            .join(MrdResultRow, MrdResultRow.sample_id == Sample.id)
            .join(Patient, Sample.patient_id == Patient.id)
            .where(Sample.deleted_at.is_(None), MrdResultRow.deleted_at.is_(None), *visible)
            .order_by(Sample.sample_date, MrdResultRow.id)
        )
        latest: dict[tuple[int, str], Any] = {}
        for row in results:
            code = "POST_HCT" if re.fullmatch(r"POST_HCT_D\d+", row.timepoint) else row.timepoint
            latest[(row.patient_id, code)] = row
        assessments: dict[int, list[tuple[date, str, int | None]]] = defaultdict(list)
        relapses: dict[int, list[date]] = defaultdict(list)
        for a in session.scalars(
            select(DiseaseAssessment)
            .where(DiseaseAssessment.deleted_at.is_(None))
            .order_by(DiseaseAssessment.id)
        ):
            assessments[a.patient_id].append((a.assessment_date, a.response, a.remission_number))
        for o in session.scalars(
            select(OutcomeEvent).where(
                OutcomeEvent.deleted_at.is_(None), OutcomeEvent.kind == OutcomeKind.RELAPSE.value
            )
        ):
            relapses[o.patient_id].append(o.event_date)
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for (patient_id, timepoint), row in latest.items():
            events = DiseaseEvents(tuple(assessments[patient_id]), tuple(relapses[patient_id]))
            status, _ = events.status_on(row.sample_date)
            if status is None:
                counts[timepoint]["unclassified"] += 1
                continue
            response = mrd_response(
                _classifiable(row), in_hematologic_cr=status is DiseaseStatus.CR
            )
            counts[timepoint][response.category.value] += 1
    order = {tp.value: i for i, tp in enumerate(Timepoint)}
    return [
        (tp, {column: counts[tp][column] for column in CATEGORIES})
        for tp in sorted(counts, key=lambda code: (order.get(code, len(order)), code))
    ]


def _columnar(registry: Registry, viewer: Principal) -> list[tuple[str, dict[str, int]]]:
    with registry.transaction() as session:
        return list(response_counts(session, viewer))


def test_categories_are_the_dashboard_columns() -> None:
    assert CATEGORIES == RESPONSE_COLUMNS


def _flow(day: str, timepoint: str, leukemic: int, total: int) -> dict[str, Any]:
    inputs = {"leukemic_events": leukemic, "total_events": total}
    mrd = {"method": "flow", "marker": "laip", "inputs": inputs, "profile": "seed1-tpog"}
    return {"sample_date": day, "timepoint": timepoint, "tissue": "BM", "mrd": [mrd]}


def _edge_cases() -> object:
    """One patient with what the cohorts lack: intermediate results, post-HCT day codes,
    a PR as the latest assessment, a relapse event on the day of a CR assessment."""
    mapping = to_mapping(demo_cohort())
    patient = mapping["patients"][0]
    patient["study_id"] = "EDGE-P01"
    patient["samples"] = [
        *patient["samples"],
        _flow("2022-01-10", "D33", 0, 1_000_000),  # no assessment yet: unclassified
        _flow("2022-03-01", "EOC", 0, 20_000),  # negative, sensitivity too low
        _flow("2022-04-01", "MRD1", 15, 400_000),  # positive below 10⁻⁴
        _flow("2022-04-15", "MRD2", 100, 1_000_000),  # exactly 10⁻⁴: failure (≥)
        _flow("2022-04-20", "PRE_HCT", 0, 100_000),  # sensitivity exactly 10⁻⁴: MRD-CR (≤)
        _flow("2022-05-01", "POST_HCT_D30", 0, 2_000_000),
        _flow("2022-05-20", "POST_HCT", 900, 1_000_000),
        _flow("2022-06-01", "POST_HCT_D100", 0, 1_000_000),
        _flow("2022-09-10", "FOLLOW_UP", 0, 1_000_000),  # after a PR
        _flow("2022-10-01", "RELAPSE", 0, 1_000_000),  # relapse event outranks CR that day
    ]
    assessment = dict(patient["assessments"][0])
    patient["assessments"] = [
        *patient["assessments"],
        {**assessment, "assessment_date": "2022-09-01", "response": "PR", "remission_number": None},
        {**assessment, "assessment_date": "2022-10-01", "response": "CR"},
    ]
    patient["outcomes"] = [
        *patient["outcomes"],
        {"kind": "relapse", "event_date": "2022-10-01", "detail": None},
    ]
    mapping["id"] = "edge"
    mapping["patients"] = [patient]
    return parse_cohort(mapping, "edge-case fixture")


def _documents(name: str) -> list[object]:
    chosen: dict[str, list[object]] = {
        "demo": [demo_cohort()],
        "synthetic": [synthetic_cohort(400, seed=7)],
        "mixed": [demo_cohort(), synthetic_cohort(150, seed=3), _edge_cases()],
    }
    return chosen[name]


@pytest.mark.parametrize("name", ["demo", "synthetic", "mixed"])
def test_columnar_table_equals_per_patient_table(tmp_path: Path, name: str) -> None:
    registry = _registry(tmp_path, *_documents(name))
    try:
        expected = _per_patient(registry, _viewer())
        assert sum(sum(counts.values()) for _, counts in expected) > 0
        assert _columnar(registry, _viewer()) == expected
        with registry.transaction() as session:
            site_ids = [site.id for site in session.query(Site)]
        for site_id in [*site_ids, 10_000]:
            assert _columnar(registry, _viewer(site_id)) == _per_patient(registry, _viewer(site_id))
    finally:
        registry.dispose()


def test_the_compared_cohorts_reach_every_category(tmp_path: Path) -> None:
    registry = _registry(tmp_path, *_documents("mixed"))
    try:
        totals = dict.fromkeys(CATEGORIES, 0)
        for _, counts in _columnar(registry, _viewer()):
            for category, count in counts.items():
                totals[category] += count
    finally:
        registry.dispose()
    assert all(totals[c] > 0 for c in CATEGORIES), totals


def test_an_empty_registry_has_no_rows(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    try:
        assert _columnar(registry, _viewer()) == []
    finally:
        registry.dispose()


def test_the_dashboard_carries_the_columnar_table(tmp_path: Path) -> None:
    registry = _registry(tmp_path, *_documents("mixed"))
    try:
        snapshot = read_snapshot(registry, today=date(2025, 3, 3), version=0)
        expected = _per_patient(registry, _viewer())
        with registry.transaction() as session:
            site_ids = [site.id for site in session.query(Site)]
        by_site = {site_id: _per_patient(registry, _viewer(site_id)) for site_id in site_ids}
    finally:
        registry.dispose()
    # A clinician: no small-cell suppression, so the counts are the plain ones.
    clinician = Principal(1, "c", "Clinician", Role.CLINICIAN, None)
    dashboard = build_dashboard(snapshot, clinician, PatientFilter())
    assert [(row.timepoint, dict(row.counts)) for row in dashboard.response_table] == expected
    for site_id, site_expected in by_site.items():
        site_user = Principal(1, "c", "Clinician", Role.CLINICIAN, site_id)
        shown = build_dashboard(snapshot, site_user, PatientFilter()).response_table
        assert [(row.timepoint, dict(row.counts)) for row in shown] == site_expected


def test_the_boundary_results_fall_where_the_thresholds_put_them(tmp_path: Path) -> None:
    registry = _registry(tmp_path, _edge_cases())
    try:
        rows = dict(_columnar(registry, _viewer()))
    finally:
        registry.dispose()
    assert rows["MRD2"]["mrd_failure"] == 1  # MRD 100 / 1,000,000 = 10⁻⁴, "≥ 10⁻⁴"
    assert rows["PRE_HCT"]["mrd_cr"] == 1  # negative, 10 events / 100,000 = 10⁻⁴, "≤ 10⁻⁴"


def test_per_patient_counts_equal_the_orm(tmp_path: Path) -> None:
    registry = _registry(tmp_path, *_documents("mixed"))
    try:
        snapshot = read_snapshot(registry, today=date(2025, 3, 3), version=7)
        with registry.transaction() as session:
            results: Counter[str] = Counter()
            for study_id in session.scalars(
                select(Patient.study_id)
                .join(Sample, Sample.patient_id == Patient.id)
                .join(MrdResultRow, MrdResultRow.sample_id == Sample.id)
            ):
                results[study_id] += 1
            kinds: dict[str, set[str]] = defaultdict(set)
            for study_id, kind in session.execute(
                select(Patient.study_id, TreatmentCourse.kind).join(
                    TreatmentCourse, TreatmentCourse.patient_id == Patient.id
                )
            ):
                kinds[study_id].add(kind)
            version = registry_version(session)
    finally:
        registry.dispose()
    ids = snapshot.cohort.histories.patient_ids
    assert snapshot.version == 7 and version > 0
    assert {sid: int(n) for sid, n in zip(ids, snapshot.mrd_results, strict=True) if n} == results
    ever = {
        sid: {k for i, k in enumerate(THERAPIES) if bits & (1 << i)}
        for sid, bits in zip(ids, snapshot.ever_therapy.tolist(), strict=True)
        if bits
    }
    assert ever == dict(kinds)
    assert sum(results.values()) > 500


def test_columnar_table_equals_per_patient_table_on_postgresql(postgres_server: str) -> None:
    url = make_url(postgres_server + "postgres")
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as admin:
        admin.execute("DROP DATABASE IF EXISTS mrdtrack_dashboard_test")
        admin.execute("CREATE DATABASE mrdtrack_dashboard_test")
    registry = open_registry(postgres_server + "mrdtrack_dashboard_test")
    try:
        init_registry(registry)
        with registry.transaction() as session:
            set_actor(session, AuditActor("test-setup"))
            for document in _documents("mixed"):
                load_cohort(session, document)  # type: ignore[arg-type]
        expected = _per_patient(registry, _viewer())
        assert len(expected) > 5
        assert _columnar(registry, _viewer()) == expected
    finally:
        registry.dispose()
