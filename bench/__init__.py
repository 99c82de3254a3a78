"""Benchmarks and the stress harness (run on demand; each script prints its figures)."""
