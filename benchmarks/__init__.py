"""mrdtrack benchmarks: each module's ``run(size)`` returns rows compared with a named peer.

Run them all with ``scripts/bench`` (or ``python -m benchmarks --size full``). Timings
on the shared 2-core machines move by about 30 % between runs, so every row is a ratio
measured side by side in one process (shared/spec/performance.md).
"""
