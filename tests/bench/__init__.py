"""Benchmarks (`make bench`): measured figures, each with a ratio against a plain reference
run in the same process on the same data. Never timed assertions: tests stay deterministic."""
