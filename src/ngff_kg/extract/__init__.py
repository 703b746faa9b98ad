"""Extractors: one metadata document in, triples out (pure functions, no I/O)."""
