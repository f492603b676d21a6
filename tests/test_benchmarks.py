"""The benchmark runner works end to end on the small size (timings are not asserted)."""

import pytest

from benchmarks.__main__ import main


def test_runner_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--size", "small", "--only", "mrd"]) == 0
    out = capsys.readouterr().out
    assert "RQ-PCR MRD" in out
    assert "peer/mrdtrack" in out
