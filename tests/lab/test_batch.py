"""Batches of mixed lab files: per-file errors, progress, local processes, a Dask cluster."""

from __future__ import annotations

import importlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mrdtrack.errors import InputError
from mrdtrack.lab.batch import BatchOptions, FileKind, ItemStatus, detect_kind, run_batch
from mrdtrack.lab.ngs_files import Clonotype
from tests.lab.documents import pcr03_wells, quantstudio_csv, rdml_xml, rdml_zip, sds_text

DX = "TGTGCGAGAGATCGGGGTTACTACGGTATGGACGTCTGG"


@pytest.fixture
def mixed(tmp_path: Path, marrow_fcs: Path) -> tuple[list[Path], BatchOptions]:
    files = {
        "run.rdml": rdml_zip(rdml_xml(pcr03_wells())),
        "run_sds.txt": sds_text(pcr03_wells()).encode(),
        "run_qs.csv": quantstudio_csv(pcr03_wells(ntc_ct=35.0)).encode(),
        "clones.tsv": f"# dna_input_ng: 20000\nsequence\tlocus\ttemplates\n{DX}\tIGH\t4\n".encode(),
        "truncated.fcs": marrow_fcs.read_bytes()[:5000],
        "notes.txt": b"nothing to see",
    }
    paths = [marrow_fcs]
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    options = BatchOptions(
        strategy=str(Path(__file__).parent / "_unused.yaml"),
        leukemic_gate="LAIP",
        diagnosis_ncn=1.59,
        tracked=(Clonotype(DX, "IGH"),),
    )
    return paths, options


def _check(report: Any, paths: list[Path]) -> None:
    by_name = {Path(i.path).name: i for i in report.items}
    assert [Path(i.path).name for i in report.items] == [p.name for p in paths]
    # 50,000 events hold < 10⁵ mononuclear cells: not evaluable under the case-report rules.
    assert by_name["marrow.fcs"].status is ItemStatus.NOT_EVALUABLE
    assert by_name["marrow.fcs"].summary["gate_counts"]["LAIP"] > 300
    assert by_name["marrow.fcs"].summary["mrd"]["qc_flags"] == ["insufficient_cells"]
    assert by_name["run.rdml"].summary["samples"]["P001-d29"]["status"] == "positive"
    assert by_name["run_sds.txt"].kind is FileKind.QPCR
    assert by_name["run_qs.csv"].status is ItemStatus.NOT_EVALUABLE
    assert by_name["clones.tsv"].summary["mrd"]["status"] == "positive"
    assert by_name["truncated.fcs"].status is ItemStatus.ERROR
    assert "truncated.fcs" in (by_name["truncated.fcs"].error or "")
    assert by_name["notes.txt"].status is ItemStatus.ERROR
    assert len(report.failed) == 2


def test_local_batch_reports_each_file(
    mixed: tuple[list[Path], BatchOptions], laip_yaml: Path
) -> None:
    paths, options = mixed
    seen: list[tuple[int, int]] = []
    report = run_batch(
        paths,
        _with_strategy(options, laip_yaml),
        progress=lambda done, total, item: seen.append((done, total)),
    )
    _check(report, paths)
    assert seen == [(i, len(paths)) for i in range(1, len(paths) + 1)]


def _with_strategy(options: BatchOptions, strategy: Path) -> BatchOptions:
    return replace(options, strategy=str(strategy))


def test_two_local_processes(mixed: tuple[list[Path], BatchOptions], laip_yaml: Path) -> None:
    paths, options = mixed
    _check(run_batch(paths, _with_strategy(options, laip_yaml), workers=2), paths)


def test_dask_local_cluster_gives_the_same_report(
    mixed: tuple[list[Path], BatchOptions], laip_yaml: Path
) -> None:
    paths, options = mixed
    distributed: Any = importlib.import_module("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        done: list[int] = []
        report = run_batch(
            paths,
            _with_strategy(options, laip_yaml),
            scheduler=cluster.scheduler_address,
            progress=lambda n, total, item: done.append(n),
        )
    _check(report, paths)
    assert sorted(done) == list(range(1, len(paths) + 1))
    local = run_batch(paths, _with_strategy(options, laip_yaml))
    assert [i.summary for i in report.items] == [i.summary for i in local.items]


def test_fcs_without_strategy_is_a_per_file_error(marrow_fcs: Path) -> None:
    report = run_batch([marrow_fcs])
    assert report.items[0].status is ItemStatus.ERROR
    assert "--strategy" in (report.items[0].error or "")


def test_detect_kind_refuses_unknown_files(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x89PNG....")
    with pytest.raises(InputError, match="clonotype table"):
        detect_kind(path)
