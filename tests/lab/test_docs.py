"""The YAML strategies shown in docs/lab.md parse, and the documented gates exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mrdtrack.lab.gatingml import parse_yaml_strategy

DOC = Path(__file__).resolve().parents[2] / "docs" / "lab.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_doc_shows_strategies() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block-{i}" for i in range(len(BLOCKS))])
def test_documented_yaml_strategies_parse(block: str) -> None:
    strategy = parse_yaml_strategy(block, "docs/lab.md")
    assert strategy.leukemic_gate in strategy.gate_ids
    assert strategy.denominator_gate in strategy.gate_ids


def test_cd19_negative_strategy_does_not_gate_on_cd19() -> None:
    strategy = parse_yaml_strategy(BLOCKS[1], "docs/lab.md")
    assert strategy.id.endswith("post-blinatumomab")
    lineage = {g.id: g for g in strategy.gates}
    assert lineage["LAIP"].parent == "Blineage"
    assert "CD19pos" in strategy.gate_ids  # kept for comparison only
