"""Lab batches into the registry (SQLite and PostgreSQL): one transaction per file,
per-file errors, idempotent re-runs by file hash, an intact audit chain."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mrdtrack.lab.batch import BatchOptions, ItemStatus, run_batch
from mrdtrack.lab.ngs_files import Clonotype
from mrdtrack.lab.registry_sink import SinkStatus, read_manifest, write_batch
from mrdtrack.registry.audit import AuditActor, set_actor, verify_chain
from mrdtrack.registry.database import Registry
from mrdtrack.registry.models import AuditEntry, ImportJob, MrdResultRow, Patient, Sample
from mrdtrack.registry.records import demo_cohort
from mrdtrack.registry.store import load_cohort
from tests.lab.documents import ALL_GATES, pcr03_wells, rdml_xml, rdml_zip
from tests.lab.fcs_factory import build_fcs, spillover_text, synthetic_marrow

DX = "TGTGCGAGAGATCGGGGTTACTACGGTATGGACGTCTGG"
ACTOR = AuditActor("lab-tech")


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labsink")
    raw, names, labels, spill = synthetic_marrow(120_000, blast_fraction=0.002, seed=21)
    fcs = build_fcs(
        raw, names, labels=labels, extra={"$SPILLOVER": spillover_text(names[2:], spill)}
    )
    (root / "d29.fcs").write_bytes(fcs)
    (root / "broken.fcs").write_bytes(fcs[:3000])
    (root / "laip.xml").write_text(ALL_GATES, encoding="utf-8")
    (root / "run.rdml").write_bytes(rdml_zip(rdml_xml(pcr03_wells())))
    (root / "clones.csv").write_text(
        f"# dna_input_ng: 20000\nsequence,locus,templates\n{DX},IGH,4\n"
    )
    (root / "stranger.csv").write_text(
        f"# dna_input_ng: 30000\nsequence,locus,templates\n{DX},IGH,9\n"
    )
    (root / "manifest.csv").write_text(
        "file,study_id,sample_date,timepoint,tissue,marker\n"
        "d29.fcs,SEED1-P01,2022-05-02,W12,BM,laip\n"
        "run.rdml,SEED1-P02,2020-12-21,EOI,BM,\n"
        "clones.csv,SEED1-P03,2021-09-01,W30,pb,\n"
        "broken.fcs,SEED1-P01,2022-05-03,W13,BM,laip\n"
        "stranger.csv,NOBODY-9,2022-01-01,EOI,BM,\n",
        encoding="utf-8",
    )
    return root


def _paths(root: Path) -> list[Path]:
    names = ("d29.fcs", "run.rdml", "broken.fcs", "clones.csv", "stranger.csv")
    return [root / n for n in names]


def _options(root: Path) -> BatchOptions:
    return BatchOptions(
        strategy=str(root / "laip.xml"),
        leukemic_gate="LAIP",
        diagnosis_ncn=1.59,
        tracked=(Clonotype(DX, "IGH"),),
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _count(registry: Registry, model: type[object]) -> int:
    with registry.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_batch_lands_per_file_and_reruns_write_nothing(registry: Registry, batch_dir: Path) -> None:
    with registry.transaction() as session:
        set_actor(session, AuditActor("loader"))
        load_cohort(session, demo_cohort())
    results_before = _count(registry, MrdResultRow)
    samples_before = _count(registry, Sample)
    with registry.reading() as session:
        p02_sample = session.scalars(
            select(Sample.id)
            .join(Patient)
            .where(Patient.study_id == "SEED1-P02", Sample.sample_date == date(2020, 12, 21))
        ).one()

    report = run_batch(_paths(batch_dir), _options(batch_dir))
    manifest = read_manifest(batch_dir / "manifest.csv")
    outcomes = {Path(o.path).name: o for o in write_batch(registry, report, manifest, ACTOR)}

    assert [o.status for o in outcomes.values()].count(SinkStatus.IMPORTED) == 3
    assert outcomes["broken.fcs"].status is SinkStatus.ERROR
    assert "broken.fcs" in (outcomes["broken.fcs"].error or "")
    assert outcomes["stranger.csv"].status is SinkStatus.ERROR
    assert "NOBODY-9" in (outcomes["stranger.csv"].error or "")
    # The file after the failures was still written: the batch did not stop.
    assert outcomes["clones.csv"].results_written == 1
    # The qPCR run's sample matches the demo cohort's EOI sample: reused, not duplicated.
    assert outcomes["run.rdml"].sample_ids == (p02_sample,)
    assert _count(registry, MrdResultRow) == results_before + 3
    assert _count(registry, Sample) == samples_before + 2

    with registry.reading() as session:
        rows = session.execute(
            select(MrdResultRow, Sample, Patient)
            .join(Sample, MrdResultRow.sample_id == Sample.id)
            .join(Patient)
            .where(MrdResultRow.source.like("lab:%"))
        ).all()
        by_file = {
            r.details["file_name"]: (
                dict(r.details),
                dict(r.inputs),
                r.marker_id,
                r.method,
                r.status,
                (s.sample_date, s.timepoint, s.tissue),
                p.study_id,
            )
            for r, s, p in rows
        }
        jobs = {
            j.filename: (j.kind, j.rows, j.actor, j.source_sha256)
            for j in session.scalars(select(ImportJob))
        }
    details, inputs, marker_id, method, _, sample, study_id = by_file["d29.fcs"]
    digest = hashlib.sha256((batch_dir / "d29.fcs").read_bytes()).hexdigest()
    assert study_id == "SEED1-P01"
    assert sample == (date(2022, 5, 2), "W12", "BM")
    assert marker_id is not None and method == "flow"
    assert details["file_sha256"] == digest == inputs["fcs_sha256"]
    assert details["strategy_id"] and details["strategy_version"]
    assert by_file["run.rdml"][0]["run_sample"] == "P001-d29"
    assert by_file["run.rdml"][4] == "positive"
    assert by_file["clones.csv"][5][2] == "PB" and by_file["clones.csv"][6] == "SEED1-P03"
    assert jobs == {
        "d29.fcs": ("lab-fcs", 1, "lab-tech", digest),
        "run.rdml": ("lab-qpcr", 1, "lab-tech", _sha(batch_dir / "run.rdml")),
        "clones.csv": ("lab-ngs", 1, "lab-tech", _sha(batch_dir / "clones.csv")),
    }

    again = write_batch(
        registry, run_batch(_paths(batch_dir), _options(batch_dir)), manifest, ACTOR
    )
    statuses = {Path(o.path).name: o.status for o in again}
    assert statuses == {
        "d29.fcs": SinkStatus.ALREADY_IMPORTED,
        "run.rdml": SinkStatus.ALREADY_IMPORTED,
        "broken.fcs": SinkStatus.ERROR,
        "clones.csv": SinkStatus.ALREADY_IMPORTED,
        "stranger.csv": SinkStatus.ERROR,
    }
    assert sum(o.results_written for o in again) == 0
    assert _count(registry, MrdResultRow) == results_before + 3
    assert _count(registry, ImportJob) == 3
    with registry.reading() as session:
        assert verify_chain(session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).ok
        creators = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.entity == "mrd_result").distinct()
        ).all()
    assert "lab-tech" in creators


def test_unknown_marker_and_missing_manifest_row_leave_nothing(
    registry: Registry, batch_dir: Path, tmp_path: Path
) -> None:
    with registry.transaction() as session:
        set_actor(session, AuditActor("loader"))
        load_cohort(session, demo_cohort())
    manifest_path = tmp_path / "m.yaml"
    manifest_path.write_text(
        f"- {{file: {batch_dir / 'clones.csv'}, study_id: SEED1-P03, sample_date: 2021-09-01,"
        " timepoint: W30, tissue: BM, marker: no-such-marker}\n",
        encoding="utf-8",
    )
    paths = [batch_dir / "clones.csv", batch_dir / "run.rdml"]
    report = run_batch(paths, _options(batch_dir))
    assert all(i.status is not ItemStatus.ERROR for i in report.items)
    samples_before = _count(registry, Sample)
    outcomes = write_batch(registry, report, read_manifest(manifest_path), ACTOR)
    assert [o.status for o in outcomes] == [SinkStatus.ERROR, SinkStatus.ERROR]
    assert "no-such-marker" in (outcomes[0].error or "")
    assert "not in the manifest" in (outcomes[1].error or "")
    # The marker lookup failed after nothing else: the transaction left no sample behind.
    assert _count(registry, Sample) == samples_before
    assert _count(registry, ImportJob) == 0
