"""Fetching over HTTP: the one shared httpx client and its safety rules.

Every request names watcher in its User-Agent, has connect/read timeouts, follows
redirects, refuses bodies over a size cap (counted on the wire and once
decompressed), and sends ``If-None-Match`` / ``If-Modified-Since`` when the
server gave validators. httpx errors are translated into ``FetchError`` here and
nowhere else.
"""

import email.utils
import hashlib
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx

from watcher import USER_AGENT
from watcher.errors import FetchError

logger = logging.getLogger(__name__)
MAX_REDIRECTS = 5


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


class Fetcher:
    """One httpx client shared by every source."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_bytes: int = 20 * 1024 * 1024,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Response | None:
        """GET a URL; None when the server says it has not changed (304)."""
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        return self.request("GET", url, headers=request_headers, max_bytes=max_bytes)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        max_bytes: int | None = None,
    ) -> Response | None:
        """Send a request and read its whole body under the cap; None on 304."""
        cap = max_bytes or self.max_bytes
        with self._stream(method, url, headers=headers, data=data, json=json) as response:
            if response.status_code == 304:
                return None
            body = b"".join(self._capped_chunks(response, cap, url))
            return Response(
                url=str(response.url),
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=body,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )

    def download(self, url: str, destination: Path, *, max_bytes: int | None = None) -> Path:
        """Stream a (large) file to disk, resuming a partial ``.part`` file with Range."""
        cap = max_bytes or self.max_bytes
        partial = destination.with_name(destination.name + ".part")
        have = partial.stat().st_size if partial.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        with self._stream("GET", url, headers=headers) as response:
            append = have > 0 and response.status_code == 206
            with partial.open("ab" if append else "wb") as out:
                written = have if append else 0
                for chunk in self._capped_chunks(response, cap - written, url):
                    out.write(chunk)
        partial.replace(destination)
        return destination

    @contextmanager
    def _stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> Iterator[httpx.Response]:
        try:
            with self.client.stream(method, url, headers=headers, data=data, json=json) as response:
                if response.status_code >= 400:
                    raise _status_error(response)
                yield response
        except httpx.TimeoutException:
            raise FetchError(f"timed out fetching {url}") from None
        except httpx.TooManyRedirects:
            raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}") from None
        except httpx.InvalidURL as exc:
            raise FetchError(f"invalid URL {url}: {exc}") from None
        except httpx.DecodingError as exc:
            raise FetchError(f"cannot decompress the body of {url}: {exc}") from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise FetchError(f"cannot reach {url}: {reason}") from None

    @staticmethod
    def _capped_chunks(response: httpx.Response, cap: int, url: str) -> Iterator[bytes]:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"{url} is {int(declared)} bytes, over the {cap}-byte cap")
        received = 0
        for chunk in response.iter_bytes():
            received += len(chunk)
            if received > cap or response.num_bytes_downloaded > cap:
                raise FetchError(f"{url} sent more than the {cap}-byte cap")
            yield chunk


def _status_error(response: httpx.Response) -> FetchError:
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
