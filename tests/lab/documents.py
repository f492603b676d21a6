"""Strategy documents and qPCR run files with known truth, built in the tests."""

# ruff: noqa: E501  (XML and instrument-export literals read best unbroken)

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

GML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gating:Gating-ML xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" '
    'xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" '
    'xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes">\n'
)


def dim(channel: str, comp: str = "FCS", xform: str | None = "lg", lo: float | None = None,
        hi: float | None = None, tag: str = "dimension") -> str:  # fmt: skip
    attrs = f'gating:compensation-ref="{comp}"'
    if xform:
        attrs += f' gating:transformation-ref="{xform}"'
    if lo is not None:
        attrs += f' gating:min="{lo}"'
    if hi is not None:
        attrs += f' gating:max="{hi}"'
    return f'<gating:{tag} {attrs}><data-type:fcs-dimension data-type:name="{channel}"/></gating:{tag}>'


def vertex(x: float, y: float) -> str:
    return (
        f'<gating:vertex><gating:coordinate data-type:value="{x}"/>'
        f'<gating:coordinate data-type:value="{y}"/></gating:vertex>'
    )


TRANSFORMS = (
    '<transforms:transformation transforms:id="lg"><transforms:logicle transforms:T="262144" '
    'transforms:W="0.5" transforms:M="4.5" transforms:A="0"/></transforms:transformation>\n'
    '<transforms:transformation transforms:id="as"><transforms:fasinh transforms:T="262144" '
    'transforms:M="4.5" transforms:A="0"/></transforms:transformation>\n'
    '<transforms:transformation transforms:id="lin"><transforms:flin transforms:T="262144" '
    'transforms:A="0"/></transforms:transformation>\n'
    '<transforms:transformation transforms:id="log"><transforms:flog transforms:T="262144" '
    'transforms:M="4.5"/></transforms:transformation>\n'
)

LAIP_POLYGON = "".join(
    vertex(x, y) for x, y in ((0.6, 0.6), (0.95, 0.62), (0.97, 0.97), (0.62, 0.9))
)

# Every gate type, hierarchy, boolean operands and complements, four transforms.
ALL_GATES = (
    GML_HEAD
    + TRANSFORMS
    + '<gating:RectangleGate gating:id="Lymph">'
    + dim("FSC-A", "uncompensated", "lin", 0.1, 0.4)
    + dim("SSC-A", "uncompensated", "lin", None, 0.2)
    + "</gating:RectangleGate>\n"
    + '<gating:RectangleGate gating:id="CD45dim" gating:parent_id="Lymph">'
    + dim("APC-A", lo=0.2, hi=0.6)
    + "</gating:RectangleGate>\n"
    + '<gating:PolygonGate gating:id="LAIP" gating:parent_id="CD45dim">'
    + dim("PE-A")
    + dim("PE-Cy7-A")
    + LAIP_POLYGON
    + "</gating:PolygonGate>\n"
    + '<gating:EllipsoidGate gating:id="Ell">'
    + dim("FITC-A", xform="as")
    + dim("PE-A", xform="as")
    + '<gating:mean><gating:coordinate data-type:value="0.3"/><gating:coordinate data-type:value="0.3"/>'
    '</gating:mean><gating:covarianceMatrix><gating:row><gating:entry data-type:value="0.01"/>'
    '<gating:entry data-type:value="0.002"/></gating:row><gating:row>'
    '<gating:entry data-type:value="0.002"/><gating:entry data-type:value="0.02"/></gating:row>'
    '</gating:covarianceMatrix><gating:distanceSquare data-type:value="1"/></gating:EllipsoidGate>\n'
    + '<gating:RectangleGate gating:id="LogRange">'
    + dim("BV421-A", xform="log", lo=0.5)
    + "</gating:RectangleGate>\n"
    + '<gating:QuadrantGate gating:id="Q" gating:parent_id="Lymph">'
    '<gating:divider gating:id="d1" gating:compensation-ref="FCS" gating:transformation-ref="lg">'
    '<data-type:fcs-dimension data-type:name="BV421-A"/><gating:value>0.4</gating:value></gating:divider>'
    '<gating:divider gating:id="d2" gating:compensation-ref="FCS" gating:transformation-ref="lg">'
    '<data-type:fcs-dimension data-type:name="BV510-A"/><gating:value>0.35</gating:value>'
    "<gating:value>0.6</gating:value></gating:divider>"
    '<gating:Quadrant gating:id="Qpp"><gating:position gating:divider_ref="d1" gating:location="0.5"/>'
    '<gating:position gating:divider_ref="d2" gating:location="0.7"/></gating:Quadrant>'
    '<gating:Quadrant gating:id="Qnm"><gating:position gating:divider_ref="d1" gating:location="0.1"/>'
    '<gating:position gating:divider_ref="d2" gating:location="0.5"/></gating:Quadrant>'
    '<gating:Quadrant gating:id="Qnn"><gating:position gating:divider_ref="d1" gating:location="0.1"/>'
    '<gating:position gating:divider_ref="d2" gating:location="0.1"/></gating:Quadrant>'
    "</gating:QuadrantGate>\n"
    '<gating:BooleanGate gating:id="NotEllAndQ" gating:parent_id="Lymph"><gating:and>'
    '<gating:gateReference gating:ref="Ell" gating:use-as-complement="true"/>'
    '<gating:gateReference gating:ref="Qnm"/></gating:and></gating:BooleanGate>\n'
    '<gating:BooleanGate gating:id="Or1"><gating:or><gating:gateReference gating:ref="LAIP"/>'
    '<gating:gateReference gating:ref="Qpp"/></gating:or></gating:BooleanGate>\n'
    '<gating:BooleanGate gating:id="Not1"><gating:not><gating:gateReference gating:ref="Ell"/>'
    "</gating:not></gating:BooleanGate>\n"
    "</gating:Gating-ML>\n"
)

# The same LAIP strategy in the project's YAML form (names markers by $PnS label).
YAML_STRATEGY = """\
id: bcp-all-laip
version: "2"
description: CD45dim lymphoid gate, then CD10/CD19 LAIP
compensation: FCS
transforms:
  lg: {type: logicle, T: 262144, W: 0.5, M: 4.5, A: 0}
  lin: {type: flin, T: 262144, A: 0}
denominator_gate: Lymph
leukemic_gate: LAIP
gates:
  - id: Lymph
    type: rectangle
    dimensions:
      - {channel: FSC-A, compensation: uncompensated, transform: lin, min: 0.1, max: 0.4}
      - {channel: SSC-A, compensation: uncompensated, transform: lin, max: 0.2}
  - id: CD45dim
    parent: Lymph
    type: rectangle
    dimensions:
      - {channel: CD45, transform: lg, min: 0.2, max: 0.6}
  - id: LAIP
    parent: CD45dim
    type: polygon
    dimensions:
      - {channel: CD10, transform: lg}
      - {channel: CD19, transform: lg}
    vertices: [[0.6, 0.6], [0.95, 0.62], [0.97, 0.97], [0.62, 0.9]]
"""

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
    b'<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>\n'
    b"<rdml>&lol9;</rdml>"
)
EXTERNAL_ENTITY = b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<rdml>&x;</rdml>'


@dataclass(frozen=True)
class Well:
    well: str
    sample: str
    target: str
    task: str  # Standard, Unknown, NTC
    ct: float | None
    quantity: float | None = None


def ct_for(copies: float, slope: float, intercept: float) -> float:
    """Ct of ``copies`` on the curve ``Ct = slope·log10(N) + intercept``."""
    return slope * math.log10(copies) + intercept


# Domain rules PCR-03-a: fusion curve (−3.32, 38.0), ABL1 curve (−3.35, 39.5).
FUSION_CURVE = (-3.32, 38.0)
ABL1_CURVE = (-3.35, 39.5)


def pcr03_wells(
    *, fusion_ct: float | None = 30.0, abl1_ct: float = 24.0, ntc_ct: float | None = None
) -> list[Well]:
    """Standards 10¹…10⁶ copies in duplicate on both curves, one patient sample in duplicate."""
    wells: list[Well] = []
    n = 0
    for target, (slope, intercept) in (("ETV6-RUNX1", FUSION_CURVE), ("ABL1", ABL1_CURVE)):
        for level in range(1, 7):
            for _ in range(2):
                n += 1
                copies = 10.0**level
                wells.append(
                    Well(
                        f"W{n}",
                        f"STD_{level}",
                        target,
                        "Standard",
                        ct_for(copies, slope, intercept),
                        copies,
                    )
                )
        n += 1
        wells.append(
            Well(f"W{n}", "NTC", target, "NTC", ntc_ct if target == "ETV6-RUNX1" else None)
        )
    for _ in range(2):
        n += 1
        wells.append(Well(f"W{n}", "P001-d29", "ETV6-RUNX1", "Unknown", fusion_ct))
        n += 1
        wells.append(Well(f"W{n}", "P001-d29", "ABL1", "Unknown", abl1_ct))
    return wells


def _ct_text(ct: float | None) -> str:
    return "Undetermined" if ct is None else f"{ct:.6f}"


def sds_text(wells: Sequence[Well]) -> str:
    """An ABI 7900 SDS 2.x results text export."""
    lines = [
        "SDS 2.4\tAQ Results",
        "Filename\tmrd_run_0412.sds",
        "Assay Type\tStandard Curve (AQ)",
        "Run DateTime\tWed Apr 12 09:14:22 CEST 2026",
        "",
        "Well\tSample Name\tDetector\tTask\tCt\tStdDev Ct\tQuantity\tMean Qty\tStdDev Qty\tFiltered\tTm",
    ]
    for i, w in enumerate(wells, start=1):
        qty = "" if w.quantity is None else f"{w.quantity:g}"
        lines.append(
            f"{i}\t{w.sample}\t{w.target}\t{w.task}\t{_ct_text(w.ct)}\t\t{qty}\t\t\tfalse\t"
        )
    lines += ["", "Slope\t-3.32", "Intercept\t38.0"]
    return "\n".join(lines) + "\n"


def quantstudio_csv(wells: Sequence[Well]) -> str:
    """A QuantStudio results export (CSV) with its header block and [Results] section."""
    lines = [
        "* Block Type = 96-Well Block (0.2mL)",
        "* Chemistry = TAQMAN",
        "* Experiment Name = MRD run 0412",
        "",
        "[Results]",
        "Well,Well Position,Omit,Sample Name,Target Name,Task,Reporter,Quencher,CT,Ct Mean,Ct SD,Quantity",
    ]
    for i, w in enumerate(wells, start=1):
        row, col = divmod(i - 1, 12)
        qty = "" if w.quantity is None else f"{w.quantity:g}"
        lines.append(
            f"{i},{chr(65 + row)}{col + 1},false,{w.sample},{w.target},{w.task.upper()},FAM,NFQ-MGB,"
            f"{_ct_text(w.ct)},,,{qty}"
        )
    lines += ["", "[Amplification Data]", "Well,Cycle,Target Name,Rn,Delta Rn"]
    return "\n".join(lines) + "\n"


def rdml_xml(wells: Sequence[Well], version: str = "1.1") -> bytes:
    """An RDML document with one experiment and one run."""
    kinds = {"Standard": "std", "Unknown": "unkn", "NTC": "ntc"}
    samples: dict[str, tuple[str, float | None]] = {}
    for w in wells:
        samples.setdefault(w.sample, (kinds[w.task], w.quantity))
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rdml version="{version}" xmlns="http://www.rdml.org">'
    ]
    for name, (kind, qty) in samples.items():
        quantity = (
            "" if qty is None else f"<quantity><value>{qty:g}</value><unit>cop</unit></quantity>"
        )
        parts.append(f'<sample id="{name}"><type>{kind}</type>{quantity}</sample>')
    for target in dict.fromkeys(w.target for w in wells):
        parts.append(f'<target id="{target}"><type>toi</type><dyeId id="FAM"/></target>')
    parts.append('<dye id="FAM"/><experiment id="exp1"><run id="run0412"><pcrFormat><rows>8</rows>')
    parts.append(
        "<columns>12</columns><rowLabel>ABC</rowLabel><columnLabel>123</columnLabel></pcrFormat>"
    )
    for i, w in enumerate(wells, start=1):
        cq = "" if w.ct is None else f"<cq>{w.ct:.6f}</cq>"
        parts.append(
            f'<react id="{i}"><sample id="{w.sample}"/><data><tar id="{w.target}"/>{cq}</data></react>'
        )
    parts.append("</run></experiment></rdml>")
    return "".join(parts).encode("utf-8")


def rdml_zip(
    xml: bytes, name: str = "rdml_data.xml", extra: Sequence[tuple[str, bytes]] = ()
) -> bytes:
    """The RDML zip container around ``xml``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, xml)
        for member, content in extra:
            archive.writestr(member, content)
    return buffer.getvalue()
