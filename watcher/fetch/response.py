"""What a request gives back: a complete ``Response`` read under the size cap, or a
``FetchError`` saying why not (an HTTP status with its Retry-After, a refused
private address, a body over the cap)."""

import email.utils
import hashlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urlsplit

import httpx

from watcher.errors import FetchError
from watcher.netguard import PrivateAddressError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Response:
    """A complete, successful response body and what identifies its version."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


async def capped_chunks(response: httpx.Response, cap: int, url: str) -> AsyncIterator[bytes]:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise FetchError(f"{url} is {int(declared)} bytes, over the {cap}-byte cap")
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > cap or response.num_bytes_downloaded > cap:
            raise FetchError(f"{url} sent more than the {cap}-byte cap")
        yield chunk


def refusal(url: str, exc: PrivateAddressError) -> str:
    host = (urlsplit(url).hostname or "").lower()
    where = "it" if exc.host.lower() == host else f"it redirects to {exc.host}, which"
    return (
        f"refused to fetch {url}: {where} resolves to a private address ({exc.address}); "
        "set settings.allow_private_addresses to allow it"
    )


def seconds(limit: float) -> str:
    return f"{limit:.0f}" if limit >= 10 else f"{limit:.2g}"


def status_error(response: httpx.Response) -> FetchError:
    reason = response.reason_phrase or ""
    message = f"HTTP {response.status_code} {reason}".strip() + f" from {response.url}"
    return FetchError(
        message,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        status=response.status_code,
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
