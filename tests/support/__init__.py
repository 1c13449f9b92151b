"""Test support of koji-adjutant (not shipped in the wheel): the fake Koji hub, Koji-style
repos and SRPMs made for real, worker processes, the adjutant command in a subprocess."""
