"""Test support code for koji-adjutant: fakes and conformance suites."""
