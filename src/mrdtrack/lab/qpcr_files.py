"""qPCR run files → standard curves per target → per-sample MRD through ``mrd.qpcr``.

Formats read:

* **RDML 1.x** (Lefever S et al. Nucleic Acids Res 2009;37:2065-2069; Ruijter JM et al.
  Biomol Detect Quantif 2015;3:e1 for RDML 1.2): a zip holding ``rdml_data.xml``, or the
  bare XML. Samples carry ``type`` (``std``, ``unkn``, ``ntc``, …) and, for standards, a
  ``quantity``; each ``react`` of a ``run`` names its sample and holds one ``data`` per
  target with its ``cq`` (absent or ≤ 0: no Cq). XML goes through defusedxml only; the
  zip is checked *before* extraction: at most 10,000 members, 1 GB uncompressed, a
  compression ratio of 100 and no ``..`` or absolute member names.
* **ABI 7500/7900 SDS 2.x results text** (Applied Biosystems SDS 2.x user guide,
  "Export results"): tab-separated, a header block, then the columns ``Well``,
  ``Sample Name``, ``Detector``, ``Task`` (``Unknown``/``Standard``/``NTC``), ``Ct``
  (``Undetermined`` when nothing amplified) and ``Quantity``.
* **QuantStudio results export** (QuantStudio Design & Analysis software, "Export →
  Results"): ``* key = value`` header lines, a ``[Results]`` section with ``Well``,
  ``Well Position``, ``Sample Name``, ``Target Name``, ``Task``, ``CT`` (or ``Cq``) and
  ``Quantity``; comma- or tab-separated.

Each run gives one curve per target from its standards (:func:`mrd.fit_standard_curve`,
rule PCR-01) and, for each unknown sample, its fusion and control-gene Ct replicates go to
:func:`mrd.qpcr_mrd_from_ct` with the patient's diagnosis NCN (PCR-02 … PCR-07). Run QC
beside the engine's: amplification in a no-template control of a target makes that
target's results not evaluable (policy of :data:`RUN_QC_PROFILES`, [U]); undetermined
wells and control-gene replicate spread are reported.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import math
import zipfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any
from xml.etree.ElementTree import Element

from mrdtrack.errors import ImportValidationError, InputError
from mrdtrack.mrd import (
    QPCR_PROFILES,
    MrdMethod,
    MrdResult,
    MrdStatus,
    QpcrProfile,
    StandardCurve,
    Transcript,
    fit_standard_curve,
    qpcr_mrd_from_ct,
)
from mrdtrack.provenance import VersionedProfile

__all__ = [
    "RUN_QC_PROFILES",
    "CurveReport",
    "QpcrAnalysis",
    "QpcrRun",
    "RunFormat",
    "RunQcProfile",
    "WellRecord",
    "WellTask",
    "ZipLimits",
    "analyze_qpcr_run",
    "parse_qpcr_run",
    "read_qpcr_run",
]

_defused: Any = importlib.import_module("defusedxml.ElementTree")
_defused_errors: Any = importlib.import_module("defusedxml")

MAX_TEXT_BYTES = 64 * 1024**2
_UNDETERMINED = {
    "",
    "undetermined",
    "undet",
    "no ct",
    "noct",
    "n/a",
    "na",
    "-",
    "--",
    "nan",
    "no cq",
}


class WellTask(StrEnum):
    """What a well is for."""

    STANDARD = "standard"
    UNKNOWN = "unknown"
    NTC = "ntc"
    OTHER = "other"


class RunFormat(StrEnum):
    """The file formats read."""

    RDML = "rdml"
    SDS = "abi-sds-2"
    QUANTSTUDIO = "quantstudio"


@dataclass(frozen=True, slots=True)
class WellRecord:
    """One target in one well: ``cq`` None means undetermined (no amplification)."""

    well: str
    sample: str
    target: str
    task: WellTask
    cq: float | None
    quantity: float | None = None


@dataclass(frozen=True, slots=True)
class QpcrRun:
    """The wells of one run file."""

    source: str
    sha256: str
    format: RunFormat
    run_id: str
    wells: tuple[WellRecord, ...]

    @property
    def targets(self) -> tuple[str, ...]:
        """Targets in order of appearance."""
        return tuple(dict.fromkeys(w.target for w in self.wells))


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Refusal thresholds for zip containers (reliability goal 23)."""

    max_members: int = 10_000
    max_total_bytes: int = 1_000_000_000
    max_ratio: float = 100.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunQcProfile(VersionedProfile):
    """Run-level QC around the engine: NTCs and control-gene replicates."""

    ntc_amplification_fails_target: bool = True
    control_max_delta_ct: float = 1.5


RUN_QC_PROFILES: dict[str, RunQcProfile] = {
    "eac-run-qc": RunQcProfile(
        id="eac-run-qc",
        version="1",
        effective_date="2003-12-01",
        source="Gabert J et al. Leukemia 2003;17:2318 (EAC: NTC wells must stay negative); "
        "ΔCt window borrowed from EuroMRD practice (domain rules PCR-02)",
        unconfirmed=(
            "ntc_amplification_fails_target=True: any NTC Cq makes the target's results "
            "not evaluable (no late-Cq tolerance)",
            "control_max_delta_ct=1.5: control-gene replicate spread flagged above it",
        ),
    )
}


def _fail(source: str, where: str, value: object, expected: str) -> ImportValidationError:
    return ImportValidationError(where, value, expected, location=source)


def _cq(raw: str | None, source: str, where: str) -> float | None:
    text = (raw or "").strip()
    if text.lower() in _UNDETERMINED:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _fail(source, where, text, "a Cq number or 'Undetermined'") from None
    if not math.isfinite(value) or value > 60:
        raise _fail(source, where, text, "a Cq between 0 and 60")
    return None if value <= 0 else value


def _quantity(raw: str | None, source: str, where: str) -> float | None:
    text = (raw or "").strip()
    if not text or text.lower() in _UNDETERMINED:
        return None
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise _fail(source, where, text, "a quantity (copies) > 0") from None
    if not math.isfinite(value) or value <= 0:
        raise _fail(source, where, text, "a quantity (copies) > 0")
    return value


def _task(raw: str) -> WellTask:
    text = raw.strip().lower()
    if text in ("standard", "std"):
        return WellTask.STANDARD
    if text in ("unknown", "unkn", "sample"):
        return WellTask.UNKNOWN
    if text in ("ntc", "no template control", "neg", "negative control"):
        return WellTask.NTC
    return WellTask.OTHER


def read_qpcr_run(path: str | Path, *, limits: ZipLimits | None = None) -> QpcrRun:
    """Read a run file (RDML, SDS 2.x results text or QuantStudio results export)."""
    file_path = Path(path)
    try:
        size = file_path.stat().st_size
    except OSError as missing:
        raise InputError("run file", str(file_path), "a readable qPCR run file") from missing
    if size > (limits or ZipLimits()).max_total_bytes:
        raise _fail(file_path.name, "file size", size, "at most 1 GB")
    return parse_qpcr_run(file_path.read_bytes(), file_path.name, limits=limits)


def parse_qpcr_run(data: bytes, source: str, *, limits: ZipLimits | None = None) -> QpcrRun:
    """Detect the format from the bytes (magic, then header) and parse it."""
    digest = hashlib.sha256(data).hexdigest()
    if data[:4] == b"PK\x03\x04":
        xml = _rdml_from_zip(data, source, limits or ZipLimits())
        return _parse_rdml(xml, source, digest)
    if source.lower().endswith((".rdml", ".zip")):
        raise _fail(source, "file", data[:4], "an RDML zip container (magic bytes PK\\x03\\x04)")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _parse_rdml(data, source, digest)
    if len(data) > MAX_TEXT_BYTES:
        raise _fail(source, "file size", len(data), f"at most {MAX_TEXT_BYTES:,} bytes of text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return _parse_results_text(text, source, digest)


def _rdml_from_zip(data: bytes, source: str, limits: ZipLimits) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as broken:
        raise _fail(source, "zip", str(broken)[:80], "a readable RDML zip container") from None
    if len(members) > limits.max_members:
        raise _fail(source, "zip members", len(members), f"at most {limits.max_members:,}")
    total = sum(m.file_size for m in members)
    if total > limits.max_total_bytes:
        raise _fail(
            source, "zip uncompressed size", total, f"at most {limits.max_total_bytes:,} bytes"
        )
    for member in members:
        name = member.filename
        if (
            name.startswith(("/", "\\"))
            or ".." in PurePosixPath(name.replace("\\", "/")).parts
            or ":" in name
        ):
            raise _fail(source, "zip member name", name, "a relative name without '..'")
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.max_ratio:
            raise _fail(
                source,
                f"zip member {name!r} compression ratio",
                round(ratio),
                f"at most {limits.max_ratio:g}",
            )
    xml_members = [m for m in members if m.filename.lower().endswith(".xml")]
    chosen = next((m for m in xml_members if m.filename == "rdml_data.xml"), None) or (
        xml_members[0] if xml_members else None
    )
    if chosen is None:
        raise _fail(source, "zip", [m.filename for m in members][:5], "an rdml_data.xml member")
    try:
        with archive.open(chosen) as handle:
            # Never trust the declared size: read at most one byte more than it promised.
            content = handle.read(chosen.file_size + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as broken:
        raise _fail(
            source, f"zip member {chosen.filename!r}", str(broken)[:80], "readable content"
        ) from None
    if len(content) > chosen.file_size:
        raise _fail(source, f"zip member {chosen.filename!r}", "size", "its declared size")
    return content


def _local(element: Element) -> str:
    return element.tag.rpartition("}")[2]


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if _local(c) == name), None)


def _children(element: Element, name: str) -> list[Element]:
    return [c for c in element if _local(c) == name]


def _text(element: Element | None) -> str | None:
    return None if element is None or element.text is None else element.text.strip()


def _parse_rdml(xml: bytes, source: str, digest: str) -> QpcrRun:
    try:
        root = _defused.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except _defused_errors.DefusedXmlException as hostile:
        raise _fail(
            source,
            "XML",
            type(hostile).__name__,
            "XML without DTD, entities or external references",
        ) from None
    except (_defused.ParseError, ValueError, UnicodeError) as broken:
        raise _fail(source, "XML", str(broken)[:120], "well-formed RDML XML") from None
    if _local(root) != "rdml":
        raise _fail(source, "root element", _local(root), "rdml")
    version = root.get("version", "")
    if not version.startswith("1."):
        raise _fail(source, "RDML version", version or None, "1.x")
    samples: dict[str, tuple[WellTask, dict[str | None, float]]] = {}
    for sample in _children(root, "sample"):
        sample_id = sample.get("id") or ""
        kind = _task(_text(_child(sample, "type")) or "unkn")
        quantities: dict[str | None, float] = {}
        for node in _children(sample, "quantity"):
            value = _quantity(
                _text(_child(node, "value")), source, f"sample {sample_id!r} quantity"
            )
            if value is not None:
                quantities[node.get("targetId")] = value
        samples[sample_id] = (kind, quantities)
    wells: list[WellRecord] = []
    run_ids: list[str] = []
    for experiment in _children(root, "experiment"):
        for run in _children(experiment, "run"):
            run_id = run.get("id") or ""
            run_ids.append(run_id)
            columns = _rdml_columns(run)
            for react in _children(run, "react"):
                well = _rdml_well(react.get("id") or "", columns)
                sample_ref = _child(react, "sample")
                sample_id = "" if sample_ref is None else sample_ref.get("id") or ""
                if sample_id not in samples:
                    raise _fail(
                        source,
                        f"run {run_id!r} react {well}",
                        sample_id,
                        "a sample id defined in the file",
                    )
                kind, quantities = samples[sample_id]
                for data in _children(react, "data"):
                    target_ref = _child(data, "tar")
                    target = "" if target_ref is None else target_ref.get("id") or ""
                    if not target:
                        raise _fail(source, f"react {well} data", None, "a tar id")
                    if _text(_child(data, "excl")):
                        continue  # excluded by the analyst: not a replicate
                    cq = _cq(_text(_child(data, "cq")), source, f"react {well} {target} cq")
                    quantity = quantities.get(target, quantities.get(None))
                    wells.append(WellRecord(well, sample_id, target, kind, cq, quantity))
    if not wells:
        raise _fail(source, "RDML", "no react data", "at least one run with reactions")
    return QpcrRun(source, digest, RunFormat.RDML, ",".join(run_ids), tuple(wells))


def _rdml_columns(run: Element) -> int:
    pcr_format = _child(run, "pcrFormat")
    text = _text(_child(pcr_format, "columns")) if pcr_format is not None else None
    return int(text) if text and text.isdigit() and 0 < int(text) < 10_000 else 12


def _rdml_well(react_id: str, columns: int) -> str:
    if not react_id.isdigit() or int(react_id) < 1:
        return react_id
    index = int(react_id) - 1
    row, column = divmod(index, columns)
    letters = ""
    row += 1
    while row:
        row, rem = divmod(row - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{column + 1}"


_ALIASES = {
    "well": ("well",),
    "position": ("well position",),
    "sample": ("sample name", "sample"),
    "target": ("target name", "detector", "target", "detector name"),
    "task": ("task",),
    "cq": ("ct", "cт", "cq", "crt", "cycle threshold"),
    "quantity": ("quantity", "qty"),
    "omit": ("omit",),
}


def _parse_results_text(text: str, source: str, digest: str) -> QpcrRun:
    lines = text.splitlines()
    start = 0
    fmt = RunFormat.SDS
    for i, line in enumerate(lines):
        if line.strip().lower() == "[results]":
            start, fmt = i + 1, RunFormat.QUANTSTUDIO
            break
    header_at = None
    for i in range(start, min(len(lines), start + 200)):
        cells = [c.strip().strip('"').lower() for c in _split(lines[i])]
        if (
            "well" in cells
            and any(c in cells for c in _ALIASES["cq"])
            and any(c in cells for c in _ALIASES["target"])
        ):
            header_at = i
            break
    if header_at is None:
        raise _fail(
            source,
            "results header",
            None,
            "a row with Well, Sample Name, Detector/Target Name, Task and Ct/Cq columns "
            "(SDS 2.x results text or QuantStudio results export)",
        )
    delimiter = "\t" if "\t" in lines[header_at] else ","
    names = [
        c.strip().strip('"').lower()
        for c in next(csv.reader([lines[header_at]], delimiter=delimiter))
    ]
    column: dict[str, int] = {}
    for key, aliases in _ALIASES.items():
        found = next((names.index(a) for a in aliases if a in names), None)
        if found is not None:
            column[key] = found
    missing = [k for k in ("well", "sample", "target", "task", "cq") if k not in column]
    if missing:
        raise _fail(
            source, f"line {header_at + 1}", ", ".join(missing), "these columns in the header"
        )
    wells: list[WellRecord] = []
    for number, row in enumerate(
        csv.reader(lines[header_at + 1 :], delimiter=delimiter), start=header_at + 2
    ):
        if not row or not any(cell.strip() for cell in row) or row[0].strip().startswith("["):
            if row and row[0].strip().startswith("["):
                break  # the next section of a QuantStudio export
            continue
        if len(row) <= max(column.values()):
            if wells:
                break  # SDS summary lines after the table
            raise _fail(source, f"line {number}", len(row), f"{max(column.values()) + 1} columns")

        def cell(key: str, row: list[str] = row) -> str:
            return row[column[key]].strip() if key in column else ""

        if cell("omit").lower() == "true":
            continue
        target = cell("target")
        if not target:
            continue
        where = f"line {number}"
        wells.append(
            WellRecord(
                well=cell("position") or cell("well"),
                sample=cell("sample"),
                target=target,
                task=_task(cell("task")),
                cq=_cq(cell("cq"), source, f"{where} Ct"),
                quantity=_quantity(cell("quantity"), source, f"{where} Quantity"),
            )
        )
    if not wells:
        raise _fail(source, "results", "no wells", "at least one well row under the header")
    return QpcrRun(source, digest, fmt, Path(source).stem, tuple(wells))


def _split(line: str) -> list[str]:
    return line.split("\t") if "\t" in line else line.split(",")


@dataclass(frozen=True, slots=True)
class CurveReport:
    """A target's standard curve and its verdict."""

    target: str
    curve: StandardCurve | None
    usable: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QpcrAnalysis:
    """Curves, run QC and per-sample MRD of one run file."""

    run: QpcrRun
    fusion_target: str
    control_target: str
    curves: Mapping[str, CurveReport]
    run_qc: tuple[str, ...]
    samples: Mapping[str, MrdResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "file": self.run.source,
            "file_sha256": self.run.sha256,
            "format": self.run.format.value,
            "run_id": self.run.run_id,
            "fusion_target": self.fusion_target,
            "control_target": self.control_target,
            "curves": {
                t: {
                    "usable": c.usable,
                    "reasons": list(c.reasons),
                    "slope": None if c.curve is None else c.curve.slope,
                    "intercept": None if c.curve is None else c.curve.intercept,
                    "r_squared": None if c.curve is None else c.curve.r_squared,
                    "efficiency": None
                    if c.curve is None or c.curve.slope >= 0
                    else c.curve.efficiency,
                    "levels_log10": None if c.curve is None else list(c.curve.levels_log10),
                }
                for t, c in self.curves.items()
            },
            "run_qc": list(self.run_qc),
            "samples": {name: result.to_dict() for name, result in self.samples.items()},
        }


def _curve(run: QpcrRun, target: str) -> CurveReport:
    standards = [w for w in run.wells if w.target == target and w.task is WellTask.STANDARD]
    levels = [math.log10(w.quantity) for w in standards if w.quantity is not None]
    cts = [w.cq for w in standards if w.quantity is not None]
    if not levels:
        return CurveReport(
            target, None, False, (f"no standard wells with a quantity for {target}",)
        )
    try:
        curve = fit_standard_curve(levels, cts)
    except InputError as problem:
        return CurveReport(target, None, False, (str(problem),))
    verdict = curve.assess()
    return CurveReport(target, curve, verdict.usable, verdict.reasons)


def _pick_target(run: QpcrRun, wanted: str | None, control: str, option: str) -> str:
    targets = run.targets
    if wanted is not None:
        match = next((t for t in targets if t.lower() == wanted.lower()), None)
        if match is None:
            raise InputError(option, wanted, "one of the run's targets: " + ", ".join(targets))
        return match
    others = [t for t in targets if t.lower() != control.lower()]
    if len(others) != 1:
        raise InputError(option, None, "the fusion target, one of: " + ", ".join(others or targets))
    return others[0]


def analyze_qpcr_run(
    run: QpcrRun,
    *,
    diagnosis_ncn: float | Mapping[str, float] | None,
    fusion_target: str | None = None,
    control_target: str = "ABL1",
    transcript: Transcript | None = None,
    samples: Sequence[str] | None = None,
    profile: QpcrProfile | None = None,
    run_qc: RunQcProfile | None = None,
) -> QpcrAnalysis:
    """Standard curves per target and MRD for each unknown sample of one run.

    Parameters
    ----------
    run
        The parsed run.
    diagnosis_ncn
        The patient's diagnosis NCN: one value for every sample, or one per sample name.
    fusion_target, control_target
        Target names as in the file (the fusion target is found when it is the only
        non-control target).
    transcript, profile
        Passed to :func:`mrd.qpcr_mrd_from_ct`.
    samples
        Restrict to these sample names.
    run_qc
        Run-level QC profile (default ``eac-run-qc``).
    """
    rules = profile or QPCR_PROFILES["seed1-tpog"]
    qc_rules = run_qc or RUN_QC_PROFILES["eac-run-qc"]
    control = _pick_target(run, control_target, control_target, "--control-target")
    fusion = _pick_target(run, fusion_target, control, "--fusion-target")
    curves = {t: _curve(run, t) for t in (fusion, control)}
    qc: list[str] = []
    failed_targets: set[str] = set()
    for well in run.wells:
        if well.task is WellTask.NTC and well.cq is not None and well.target in (fusion, control):
            qc.append(
                f"NTC well {well.well} ({well.target}) amplified at Cq {well.cq:g}: contamination"
            )
            if qc_rules.ntc_amplification_fails_target:
                failed_targets.add(well.target)
    replicates: dict[str, dict[str, list[float | None]]] = defaultdict(
        lambda: {fusion: [], control: []}
    )
    for well in run.wells:
        if well.task is WellTask.UNKNOWN and well.target in (fusion, control):
            replicates[well.sample][well.target].append(well.cq)
            if well.cq is None:
                qc.append(f"well {well.well} ({well.sample}, {well.target}) undetermined")
    chosen = list(replicates) if samples is None else list(samples)
    results: dict[str, MrdResult] = {}
    for name in chosen:
        if name not in replicates:
            raise InputError("--sample", name, "a sample of the run: " + ", ".join(replicates))
        reps = replicates[name]
        ncn = diagnosis_ncn.get(name) if isinstance(diagnosis_ncn, Mapping) else diagnosis_ncn
        control_cts = [c for c in reps[control] if c is not None]
        if (
            len(control_cts) > 1
            and max(control_cts) - min(control_cts) > qc_rules.control_max_delta_ct
        ):
            spread = max(control_cts) - min(control_cts)
            qc.append(
                f"{name}: {control} replicates differ by ΔCt {spread:.2f} "
                f"(> {qc_rules.control_max_delta_ct:g})"
            )
        veto = _veto(name, reps, fusion, control, curves, failed_targets, ncn, rules)
        if veto is not None:
            results[name] = veto
            continue
        fusion_curve, control_curve = curves[fusion].curve, curves[control].curve
        if fusion_curve is None or control_curve is None:  # covered by the veto; for typing
            continue
        try:
            engine = qpcr_mrd_from_ct(
                fusion_cts=reps[fusion],
                control_cts=reps[control],
                fusion_curve=fusion_curve,
                control_curve=control_curve,
                diagnosis_ncn=ncn,
                transcript=transcript,
                profile=rules,
            )
        except InputError as problem:
            results[name] = _not_evaluable(name, (str(problem),), ncn, rules)
            continue
        results[name] = _with_provenance(engine, run, name, fusion, control)
    return QpcrAnalysis(
        run, fusion, control, MappingProxyType(curves), tuple(qc), MappingProxyType(results)
    )


def _veto(
    name: str,
    reps: Mapping[str, list[float | None]],
    fusion: str,
    control: str,
    curves: Mapping[str, CurveReport],
    failed: set[str],
    ncn: float | None,
    rules: QpcrProfile,
) -> MrdResult | None:
    reasons = []
    if not reps[fusion] or not reps[control]:
        reasons.append(f"{name} has no {fusion if not reps[fusion] else control} wells in this run")
    for target in (fusion, control):
        if curves[target].curve is None:
            reasons.append(f"no standard curve for {target}: " + "; ".join(curves[target].reasons))
        if target in failed:
            reasons.append(f"the {target} no-template control amplified: repeat the run")
    return _not_evaluable(name, tuple(reasons), ncn, rules) if reasons else None


def _not_evaluable(
    name: str, reasons: tuple[str, ...], ncn: float | None, rules: QpcrProfile
) -> MrdResult:
    # A run-level QC veto, not an MRD computation: no value, no sensitivity.
    return MrdResult(
        method=MrdMethod.RQ_PCR,
        status=MrdStatus.NOT_EVALUABLE,
        detected=False,
        mrd_fraction=None,
        sensitivity_fraction=None,
        quantifiable=False,
        reasons=(*reasons, "the sample cannot be reported from this run"),
        qc_flags=(),
        inputs={"sample": name, "diagnosis_ncn": ncn},
        profile=rules.label,
        rule="PCR-01 (run QC)",
    )


def _with_provenance(
    result: MrdResult, run: QpcrRun, name: str, fusion: str, control: str
) -> MrdResult:
    inputs = {
        **dict(result.inputs),
        "sample": name,
        "run_file": run.source,
        "run_sha256": run.sha256,
        "run_format": run.format.value,
        "fusion_target": fusion,
        "control_target": control,
    }
    return replace(result, inputs=inputs)
