"""The main loop's pacing of its buildroot sweep."""

from adjutant.worker.daemon import Pace


def test_the_sweep_runs_at_once_then_at_most_once_an_interval() -> None:
    pace = Pace(15)
    assert pace.due(100.0)
    # woken early by task ends: no sweep until the interval has passed
    assert not pace.due(100.1)
    assert not pace.due(114.9)
    assert pace.due(115.0)
    assert not pace.due(120.0)
    assert pace.due(140.0)


def test_a_zero_interval_sweeps_every_round() -> None:
    pace = Pace(0)
    assert all(pace.due(100.0) for _ in range(3))
