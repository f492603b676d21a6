"""qPCR run files (RDML, SDS 2.x, QuantStudio) → curves → MRD through the engine."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.lab.qpcr_files import (
    RunFormat,
    WellTask,
    ZipLimits,
    analyze_qpcr_run,
    parse_qpcr_run,
    read_qpcr_run,
)
from mrdtrack.mrd import MrdStatus, QcFlag
from tests.lab.documents import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    pcr03_wells,
    quantstudio_csv,
    rdml_xml,
    rdml_zip,
    sds_text,
)
from tests.lab.fuzzing import only_declared_errors

WELLS = pcr03_wells()
FORMATS = {
    "rdml-zip": ("run.rdml", rdml_zip(rdml_xml(WELLS))),
    "rdml-xml": ("run.xml", rdml_xml(WELLS, version="1.3")),
    "sds": ("run.txt", sds_text(WELLS).encode()),
    "quantstudio": ("run.csv", quantstudio_csv(WELLS).encode()),
}


@pytest.mark.parametrize("fmt", list(FORMATS), ids=list(FORMATS))
def test_pcr03_a_from_each_format(fmt: str) -> None:
    """PCR-03-a: fusion Ct 30.0 on (−3.32, 38.0), ABL1 Ct 24.0 on (−3.35, 39.5), NCN_dx 1.59."""
    name, data = FORMATS[fmt]
    run = parse_qpcr_run(data, name)
    assert run.targets == ("ETV6-RUNX1", "ABL1")
    analysis = analyze_qpcr_run(run, diagnosis_ncn=1.59)
    assert analysis.fusion_target == "ETV6-RUNX1"
    curve = analysis.curves["ETV6-RUNX1"].curve
    assert curve is not None and curve.slope == pytest.approx(-3.32, abs=1e-9)
    assert analysis.curves["ABL1"].usable
    result = analysis.samples["P001-d29"]
    assert result.status is MrdStatus.POSITIVE
    assert result.details["ncn"] == pytest.approx(6.06e-3, rel=2e-3)
    assert result.mrd_fraction == pytest.approx(3.81e-3, rel=2e-3)
    assert result.details["log_reduction"] == pytest.approx(2.42, abs=0.01)
    assert result.inputs["run_sha256"] == run.sha256
    assert result.inputs["fusion_target"] == "ETV6-RUNX1"


def test_formats_are_detected() -> None:
    detected = {k: parse_qpcr_run(d, n).format for k, (n, d) in FORMATS.items()}
    assert detected == {
        "rdml-zip": RunFormat.RDML,
        "rdml-xml": RunFormat.RDML,
        "sds": RunFormat.SDS,
        "quantstudio": RunFormat.QUANTSTUDIO,
    }


def test_undetected_fusion_is_negative_with_sensitivity() -> None:
    run = parse_qpcr_run(sds_text(pcr03_wells(fusion_ct=None)).encode(), "neg.txt")
    analysis = analyze_qpcr_run(run, diagnosis_ncn=1.59)
    result = analysis.samples["P001-d29"]
    assert result.status is MrdStatus.NEGATIVE
    assert result.sensitivity_fraction is not None and result.sensitivity_fraction < 1e-4
    assert any("undetermined" in line for line in analysis.run_qc)


def test_ntc_amplification_makes_the_target_not_evaluable() -> None:
    run = parse_qpcr_run(quantstudio_csv(pcr03_wells(ntc_ct=36.2)).encode(), "ntc.csv")
    analysis = analyze_qpcr_run(run, diagnosis_ncn=1.59)
    assert any("NTC" in line and "36.2" in line for line in analysis.run_qc)
    result = analysis.samples["P001-d29"]
    assert result.status is MrdStatus.NOT_EVALUABLE
    assert any("no-template control" in r for r in result.reasons)


def test_low_abl1_is_not_evaluable_through_the_engine() -> None:
    run = parse_qpcr_run(sds_text(pcr03_wells(abl1_ct=27.5)).encode(), "lowabl.txt")
    result = analyze_qpcr_run(run, diagnosis_ncn=1.59).samples["P001-d29"]
    assert result.status is MrdStatus.NOT_EVALUABLE
    assert QcFlag.INSUFFICIENT_CONTROL_GENE in result.qc_flags


def test_per_sample_diagnosis_ncn_and_target_choice() -> None:
    run = parse_qpcr_run(sds_text(WELLS).encode(), "run.txt")
    analysis = analyze_qpcr_run(run, diagnosis_ncn={"P001-d29": 0.93}, fusion_target="etv6-runx1")
    assert analysis.samples["P001-d29"].mrd_fraction == pytest.approx(6.06e-3 / 0.93, rel=2e-3)
    with pytest.raises(InputError, match="--fusion-target"):
        analyze_qpcr_run(run, diagnosis_ncn=1.59, fusion_target="BCR-ABL1")
    with pytest.raises(InputError, match="--sample"):
        analyze_qpcr_run(run, diagnosis_ncn=1.59, samples=["P999"])


def test_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "run.rdml"
    path.write_bytes(FORMATS["rdml-zip"][1])
    run = read_qpcr_run(path)
    assert run.source == "run.rdml"
    assert {w.task for w in run.wells} == {WellTask.STANDARD, WellTask.UNKNOWN, WellTask.NTC}


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        pytest.param(
            _zip([("rdml_data.xml", b"<rdml>" + b" " * 2_000_000 + b"</rdml>")]),
            "ratio",
            id="zip-bomb-ratio",
        ),
        pytest.param(
            _zip([(f"m{i}.xml", b"x") for i in range(30)]), "members", id="too-many-members"
        ),
        pytest.param(
            _zip([("../../etc/rdml_data.xml", b"<rdml/>")]), "member name", id="path-traversal"
        ),
        pytest.param(_zip([("/abs/rdml_data.xml", b"<rdml/>")]), "member name", id="absolute-name"),
        pytest.param(rdml_zip(BILLION_LAUGHS), "without DTD", id="billion-laughs"),
        pytest.param(rdml_zip(EXTERNAL_ENTITY), "without DTD", id="external-entity"),
        pytest.param(rdml_zip(b"<rdml version='2.0'/>"), "RDML version", id="rdml-2"),
        pytest.param(b"\x00\x01garbage", "results header", id="not-a-run"),
    ],
)
def test_hostile_and_broken_runs_are_refused(data: bytes, needle: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ImportValidationError, match=needle):
        parse_qpcr_run(
            data, "bad.rdml" if data[:2] == b"PK" else "bad.txt", limits=ZipLimits(max_members=20)
        )
    assert time.perf_counter() - started < 1.0


def test_rdml_extension_without_zip_magic_is_refused() -> None:
    with pytest.raises(ImportValidationError, match="magic"):
        parse_qpcr_run(b"Well\tSample Name", "run.rdml")


def test_rdml_reference_to_unknown_sample() -> None:
    xml = rdml_xml(WELLS).replace(
        b'<react id="1"><sample id="STD_1"/>', b'<react id="1"><sample id="GHOST"/>'
    )
    with pytest.raises(ImportValidationError, match="GHOST"):
        parse_qpcr_run(xml, "run.xml")


SDS = sds_text(WELLS)
RDML = rdml_xml(WELLS)


@settings(
    derandomize=True, max_examples=120, deadline=2000, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    source=st.sampled_from(["sds", "rdml", "quantstudio"]),
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 30), st.text(max_size=10)), max_size=3
    ),
)
def test_fuzzed_runs_raise_only_import_errors(
    source: str, edits: list[tuple[int, int, str]]
) -> None:
    base = {"sds": SDS, "rdml": RDML.decode(), "quantstudio": quantstudio_csv(WELLS)}[source]
    text = base
    for at, cut, junk in edits:
        at %= len(text)
        text = text[:at] + junk + text[at + cut :]

    def parse_and_analyze() -> None:
        analyze_qpcr_run(parse_qpcr_run(text.encode(), "fuzz.txt"), diagnosis_ncn=1.59)

    # A well-formed run whose targets or samples do not fit is an InputError naming the option.
    only_declared_errors(parse_and_analyze, "fuzz.txt", input_errors=True)
