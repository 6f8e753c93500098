"""When sources are due: spread at start-up, backoffs kept, concurrency honoured. Fixed clock."""

from watcher.scheduling import MAX_SPREAD_SECONDS, DueTimes, spread_offset


def test_start_up_polls_are_spread_over_the_interval_and_stable() -> None:
    offsets = [spread_offset(f"source-{i}", 600.0) for i in range(1000)]
    assert all(0 <= o < MAX_SPREAD_SECONDS for o in offsets)
    # Spread, not bunched: each fifth of the window holds about a fifth of the sources.
    fifths = [sum(1 for o in offsets if k * 60 <= o < (k + 1) * 60) for k in range(5)]
    assert all(150 <= count <= 250 for count in fifths), fifths
    assert spread_offset("source-1", 600.0) == spread_offset("source-1", 600.0)
    assert spread_offset("fast", 1.0) < 1.0


def test_a_source_backing_off_keeps_its_stored_next_check() -> None:
    times = DueTimes()
    times.sync({"ok": 60.0, "failing": 60.0}, now=1000.0, known={"failing": 5000.0})
    assert times.due["failing"] == 5000.0
    assert 1000.0 <= times.due["ok"] < 1060.0


def test_take_gives_the_earliest_due_within_capacity_and_skips_running() -> None:
    times = DueTimes({"a": 10.0, "b": 5.0, "c": 7.0, "d": 50.0})
    assert times.take(20.0, running=set(), capacity=2) == ["b", "c"]
    assert times.take(20.0, running={"b"}, capacity=5) == ["c", "a"]
    assert times.take(20.0, running=set(), capacity=0) == []


def test_after_a_poll_a_source_is_due_when_its_outcome_says() -> None:
    times = DueTimes({"a": 0.0})
    times.polled("a", now=100.0, wait=30.0)
    assert times.take(129.0, running=set(), capacity=1) == []
    assert times.take(130.0, running=set(), capacity=1) == ["a"]
    assert times.next_wake(120.0, running=set()) == 10.0
    assert times.next_wake(120.0, running={"a"}) is None


def test_a_reload_forgets_removed_sources_and_places_new_ones() -> None:
    times = DueTimes({"kept": 42.0, "removed": 1.0})
    times.sync({"kept": 60.0, "added": 60.0}, now=100.0)
    assert set(times.due) == {"kept", "added"}
    assert times.due["kept"] == 42.0
    assert 100.0 <= times.due["added"] < 160.0
