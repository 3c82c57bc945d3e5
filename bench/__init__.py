"""Benchmarks of a poll cycle; see bench/README.md."""
