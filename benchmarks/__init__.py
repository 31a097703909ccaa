"""Benchmark harness of the exporter: `python3 -m benchmarks --help`; docs/performance.md."""
