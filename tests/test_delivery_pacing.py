"""The pacer's decisions, on a clock the test moves."""

from watcher.delivery.pacing import Pacer


def test_sends_late_for_their_slots_still_keep_to_the_cap_in_any_second() -> None:
    pacer = Pacer(overall_rate=29.0)
    slots = [pacer.reserve(str(chat), 1.0, now=0.0) for chat in range(40)]
    assert slots[1] - slots[0] == 1 / 29  # reserved a 29th of a second apart

    # The event loop was busy for two seconds: every reserved slot is past at once.
    went = []
    now = 2.0
    for _ in slots:
        while (wait := pacer.overall_wait(now)) > 0:
            now += wait
        pacer.sent(now)
        went.append(now)

    assert went[:29] == [2.0] * 29  # 29 may go together: within the cap
    assert went[29] == 3.0  # the 30th waits until the first leaves the one-second window
    assert all(b - a >= 1.0 for a, b in zip(went, went[29:], strict=False))


def test_a_target_without_an_overall_cap_never_waits() -> None:
    pacer = Pacer(overall_rate=0)
    for _ in range(100):
        pacer.sent(0.0)
    assert pacer.overall_wait(0.0) == 0.0
