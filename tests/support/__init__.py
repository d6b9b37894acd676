"""Rigs shared by the tests and the benchmarks (bench/ imports from here, never from test modules)."""
