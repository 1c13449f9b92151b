"""Benchmarks: each prints figures and asserts nothing (``nox -s bench``)."""
