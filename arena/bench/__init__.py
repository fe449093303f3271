"""Benchmark runs: every model on one suite under one request (local or Ray), stored, scored, reported, compared."""
