"""Benchmarks: each module prints figures; none is a timed test. See docs/PERFORMANCE.md."""
