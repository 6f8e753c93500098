"""What an HTTP target's answer means for an alert: one classification, shared by the
targets that POST (Mastodon, webhooks). Pure, but for reading a response's headers.

- 2xx: taken;
- 429: wait as long as the answer says (``Retry-After`` in seconds or as a date,
  Mastodon's ``X-RateLimit-Reset`` timestamp), else a minute;
- 5xx, 408 and network errors or timeouts: transient, retried from the outbox for
  as long as it takes (a timed-out POST may have arrived: each carries a key that
  stays the same for every attempt, so the receiver can tell a repeat);
- any other 4xx: refused for good, which the maintainers are told once.
"""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from watcher.delivery.outcome import Outcome, Refused, RetryAfter, Sent, Transient

DEFAULT_WAIT = 60.0  # a 429 that does not say for how long
MAX_WAIT = 6 * 3600.0  # a rate-limit date further than this is taken as a clock problem
TIMEOUT = httpx.Timeout(20.0, connect=10.0)


def client() -> httpx.AsyncClient:
    """The client of a target that POSTs: its deadlines, and no redirect followed.

    Its address is the maintainer's own choice in feeds.yml, not one read from a
    feed: no private-address guard (a test instance or a receiver on the same host
    is the usual case).
    """
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)


def outcome_of(
    response: httpx.Response, *, now: datetime, message_id: int | None = None
) -> Outcome:
    """The outcome of one answered request."""
    status = response.status_code
    if 200 <= status < 300:
        return Sent(message_id)
    if status == 429:
        return RetryAfter(wait_seconds(response.headers, now=now))
    if status >= 500 or status == 408:
        return Transient(f"HTTP {status}")
    return Refused(f"HTTP {status}: {_reason(response)}")


def failure_of(exc: httpx.HTTPError) -> Outcome:
    """A request that got no answer: transient, whatever happened on the way."""
    return Transient(f"network: {type(exc).__name__}: {exc}")


def wait_seconds(headers: httpx.Headers, *, now: datetime) -> float:
    """How long a 429 asks to wait, from ``Retry-After`` or ``X-RateLimit-Reset``."""
    for name in ("retry-after", "x-ratelimit-reset"):
        value = headers.get(name, "").strip()
        if not value:
            continue
        seconds = _seconds(value, now)
        if seconds is not None:
            return min(max(seconds, 1.0), MAX_WAIT)
    return DEFAULT_WAIT


def _seconds(value: str, now: datetime) -> float | None:
    try:
        number = float(value)
    except ValueError:
        pass
    else:  # seconds to wait, or (other services) a Unix time
        return number - now.timestamp() if number > 1e9 else number
    try:  # Mastodon: an ISO 8601 timestamp ("2026-12-07T06:30:00.000Z")
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:  # Retry-After as an HTTP date
            at = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - now).total_seconds()


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "refused"
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])[:200]
    return response.reason_phrase or "refused"
