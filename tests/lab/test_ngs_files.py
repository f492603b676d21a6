"""Clonotype tables → tracked clonotypes → NGS MRD through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.lab.ngs_files import (
    Clonotype,
    analyze_clonotypes,
    parse_clonotype_table,
    read_tracked_clonotypes,
)
from mrdtrack.mrd import MrdStatus
from tests.lab.fuzzing import only_declared_errors

DX_IGH = "TGTGCGAGAGATCGGGGTTACTACGGTATGGACGTCTGG"
DX_IGK = "TGTCAGCAGTATAATAGTTACCCTCTCACTTTC"
OTHER = "TGTGCGAAAGATATAGCAGCAGCTGGTACGTTTGACTACTGG"


def _table(templates: int, *, sep: str = ",", header: str = "# dna_input_ng: 20000\n") -> bytes:
    rows = [
        f"sequence{sep}locus{sep}templates{sep}reads",
        f"{DX_IGH}{sep}IGH{sep}{templates}{sep}{templates * 40}",
        f"{OTHER}{sep}IGH{sep}5000{sep}200000",
        f"{DX_IGK}{sep}IGK{sep}0{sep}0",
    ]
    return (header + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize(
    ("templates", "status", "per_million"),
    [
        pytest.param(4, MrdStatus.POSITIVE, 1.3, id="NGS-02-b"),
        pytest.param(0, MrdStatus.NEGATIVE, None, id="NGS-02-c"),
    ],
)
def test_domain_rule_vectors(templates: int, status: MrdStatus, per_million: float | None) -> None:
    table = parse_clonotype_table(_table(templates), "fu.csv")
    analysis = analyze_clonotypes(
        table, tracked=[Clonotype(DX_IGH, "IGH"), Clonotype(DX_IGK, "IGK")]
    )
    assert list(analysis.cell_equivalents) == [float(templates), 0.0]
    assert analysis.mrd.status is status
    assert analysis.mrd.details["cells_evaluated"] == pytest.approx(3.077e6, rel=1e-3)
    if per_million is None:
        assert analysis.mrd.details["negative_at_fraction"] == pytest.approx(1e-6)
    else:
        assert analysis.mrd.details["mrd_per_million"] == pytest.approx(per_million, abs=0.05)
    assert analysis.mrd.inputs["table_sha256"] == table.sha256


def test_tsv_with_reads_and_spike_in_calibrator() -> None:
    header = "# total_nucleated_cells: 1000000\n# spike_in_reads: 40000\n# spike_in_cells: 1000\n"
    data = _table(0, sep="\t", header=header).replace(b"\ttemplates", b"\tumis")
    table = parse_clonotype_table(data.replace(b"\t0\t0\n", b"\t\t0\n"), "fu.tsv")
    analysis = analyze_clonotypes(table, tracked=[Clonotype(DX_IGH)])
    assert analysis.cell_equivalents == (0.0,)
    table = parse_clonotype_table(
        _table(10, sep="\t", header=header).replace(b"\ttemplates", b"\tumis"), "fu.tsv"
    )
    analysis = analyze_clonotypes(table, tracked=[Clonotype(DX_IGH)])
    assert analysis.cell_equivalents[0] == pytest.approx(10.0)  # 400 reads × 1000 / 40000
    assert analysis.mrd.mrd_fraction == pytest.approx(1e-5)


def test_reads_without_calibrator_are_refused() -> None:
    data = _table(3).replace(b",templates", b",umis")
    with pytest.raises(ImportValidationError, match="spike-in"):
        analyze_clonotypes(parse_clonotype_table(data, "fu.csv"), tracked=[Clonotype(DX_IGH)])


def test_tracked_rows_and_marker_file(tmp_path: Path) -> None:
    data = _table(4).replace(b"locus,templates,reads", b"locus,templates,reads,tracked")
    data = data.replace(b"IGH,4,160", b"IGH,4,160,yes").replace(
        b"IGH,5000,200000", b"IGH,5000,200000,no"
    )
    data = data.replace(b"IGK,0,0", b"IGK,0,0,no")
    analysis = analyze_clonotypes(parse_clonotype_table(data, "fu.csv"))
    assert analysis.tracked == (Clonotype(DX_IGH, "IGH"),)
    marker = tmp_path / "dx.csv"
    marker.write_text(f"sequence,locus,templates\n{DX_IGH},IGH,90000\n{DX_IGK},IGK,40000\n")
    assert read_tracked_clonotypes(marker) == (Clonotype(DX_IGH, "IGH"), Clonotype(DX_IGK, "IGK"))


def test_without_tracked_clonotypes_or_input_amount() -> None:
    table = parse_clonotype_table(_table(4), "fu.csv")
    with pytest.raises(InputError, match="--track"):
        analyze_clonotypes(table)
    bare = parse_clonotype_table(_table(4, header=""), "fu.csv")
    with pytest.raises(InputError, match="dna_input_ng"):
        analyze_clonotypes(bare, tracked=[Clonotype(DX_IGH)])


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        pytest.param(b"clone,count\nA,1\n", "sequence column", id="no-sequence-column"),
        pytest.param(b"sequence,templates\nACGTXY,3\n", "nucleotide", id="not-nucleotides"),
        pytest.param(b"sequence,templates\nACGT,-3\n", "count", id="negative-count"),
        pytest.param(b"sequence,templates\nACGT,3,9\n", "fields", id="ragged-row"),
        pytest.param(b"", "header", id="empty"),
    ],
)
def test_bad_tables_name_the_row(data: bytes, needle: str) -> None:
    with pytest.raises(ImportValidationError, match=needle):
        parse_clonotype_table(data, "bad.csv")


@settings(derandomize=True, max_examples=150, deadline=2000)
@given(text=st.text(max_size=400))
def test_fuzzed_tables_raise_only_input_errors(text: str) -> None:
    def parse_and_analyze() -> None:
        table = parse_clonotype_table(_table(4)[:60] + text.encode(), "fuzz.csv")
        analyze_clonotypes(table, tracked=[Clonotype(DX_IGH)], dna_input_ng=20_000)

    only_declared_errors(parse_and_analyze, "fuzz.csv", input_errors=True)
