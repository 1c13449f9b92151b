"""The runtime conformance suite, part of the plugin API: a runtime plugin proves itself
by running :mod:`adjutant.testing.conformance` against its real engine. Needs pytest
(``pip install koji-adjutant[testing]``). The project's own test support (fake hub,
fixtures) lives in its test tree and is not shipped."""
