"""``python -m benchmarks [--size small|full] [--only NAME …]``: run and print a table."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

# Benchmark modules, each with ``run(size) -> list[dict]``; later issues add theirs here.
MODULES = ("mrd", "survival", "cohort", "registry", "lab", "web")


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmark modules and print one table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--size", choices=("small", "full"), default="full")
    parser.add_argument("--only", nargs="*", choices=MODULES, default=None)
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for name in args.only or MODULES:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as missing:
            if missing.name != f"benchmarks.{name}":
                raise
            continue
        for result in module.run(args.size):
            rows.append({"module": name, **result})
    table = Table(title=f"mrdtrack benchmarks ({args.size}), Python {platform.python_version()}")
    for column in (
        "module",
        "workload",
        "n",
        "mrdtrack (s)",
        "peer",
        "peer (s)",
        "peer/mrdtrack",
        "max |diff|",
        "peak RSS (MiB)",
    ):
        table.add_column(
            column, justify="right" if column not in {"module", "workload", "peer"} else "left"
        )
    for r in rows:
        diff = r.get("max_abs_diff")
        table.add_row(
            r["module"],
            r["workload"],
            f"{r['n']:,}",
            f"{r['mrdtrack_s']:.4g}",
            r["peer"],
            f"{r['peer_s']:.4g}",
            f"{r['ratio']:.3g}",
            "—" if diff is None else f"{diff:.1e}",
            f"{r['peak_rss_mb']:.0f}",
        )
    Console(file=sys.stdout, width=200).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
