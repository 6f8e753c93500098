"""The dates an item may carry, and the conversions every reader makes on them.

A source's mistake must not stop a poll: "9999-12-31 23:59 GMT" overflows once
shown in Paris time (year 10000), "0001-01-01T00:00+01:00" cannot be moved back an
hour, and an epoch of 10**20 ms is no date at all. Every date is brought to the
nearest bound of [EARLIEST, LATEST] where it is read (the item itself is kept):
readers convert epochs with ``from_epoch`` and show a moment in Paris time with
``in_paris``; ``Item`` clamps whatever else it is given (see watcher/items.py).
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_EARLIEST_EPOCH = EARLIEST.timestamp()
_LATEST_EPOCH = LATEST.timestamp()


def clamp_date(moment: datetime | None) -> datetime | None:
    """``moment`` within [EARLIEST, LATEST]; naive dates are taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return min(max(moment, EARLIEST), LATEST)
    except OverflowError:  # an offset that pushes it past year 1 or 9999
        return EARLIEST if moment.year < 2000 else LATEST


def in_range(moment: datetime) -> bool:
    """Whether ``moment`` (naive taken as UTC) lies within [EARLIEST, LATEST]."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        return EARLIEST <= aware <= LATEST
    except OverflowError:
        return False


def from_epoch(seconds: float) -> datetime:
    """Seconds since 1970 (ArcGIS and Légifrance give milliseconds: divide first) as
    an aware UTC datetime, clamped: never OverflowError, ValueError or OSError."""
    if seconds != seconds:  # NaN: no date, the earliest bound says so plainly
        return EARLIEST
    if seconds <= _EARLIEST_EPOCH:
        return EARLIEST
    if seconds >= _LATEST_EPOCH:
        return LATEST
    return datetime.fromtimestamp(seconds, tz=UTC)


def in_paris(moment: datetime) -> datetime:
    """``moment`` in Paris time, clamped first (year 9999 in UTC is 10000 in Paris)."""
    clamped = clamp_date(moment)
    assert clamped is not None
    return clamped.astimezone(PARIS)
