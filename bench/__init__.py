"""citydw's benchmarks: how fast it is against the physical limit, and how its cost grows with history.

Never run by ``make test`` (a harness test runs a smoke-sized workload and
asserts no time). See docs/benchmarks.md and ``python -m bench --help``.
"""
