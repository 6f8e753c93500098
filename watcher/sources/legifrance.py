"""The Journal officiel through the PISTE Légifrance API (``kind: legifrance``).

OAuth2 client credentials from LEGIFRANCE_CLIENT_ID / LEGIFRANCE_CLIENT_SECRET;
the token is kept until it expires and renewed on 401. Each poll reads the last
JO issues (lastNJo), every level of each issue's table of contents (jorfCont:
``liens`` and nested ``tms``), then the full text of each new JORFTEXT
(consult/jorf). The API answers 429 past its quotas: watcher stops there, keeps
what it has, and the source backs off by Retry-After.
"""

import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from watcher.dates import from_epoch
from watcher.errors import FetchError, ParseError
from watcher.fetch import Response
from watcher.fields import boolean, option, text, whole_number
from watcher.items import Item
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.legifrance_texts import text_item

logger = logging.getLogger(__name__)
PRODUCTION_API = "https://api.piste.gouv.fr/dila/legifrance/lf-engine-app"
SANDBOX_API = "https://sandbox-api.piste.gouv.fr/dila/legifrance/lf-engine-app"
PRODUCTION_OAUTH = "https://oauth.piste.gouv.fr/api/oauth/token"
SANDBOX_OAUTH = "https://sandbox-oauth.piste.gouv.fr/api/oauth/token"
PAGE_SIZE = 100  # the API refuses larger pages
MAX_PAGES = 20
TOKEN_MARGIN = 60.0  # renew a minute before the announced expiry
REMEMBERED_ISSUES = 60
MAX_TEXT_TRIES = 3  # polls that may fail to read one text before it is kept by its title


@dataclass(frozen=True)
class LegifranceOptions:
    sandbox: bool = option(False, parse=boolean)  # PISTE's sandbox API and OAuth server
    issues: int = option(3, parse=whole_number(1, 20))  # last JO issues read (lastNJo)
    max_texts: int = option(200, parse=whole_number(1, 1000))  # full texts read per poll
    oauth_url: str = option("", parse=text)  # "" = PISTE's, production or sandbox


class _Api:
    """Authenticated JSON calls to the Légifrance API."""

    def __init__(self, source: SourceConfig, options: LegifranceOptions, ctx: PollContext) -> None:
        self.ctx = ctx
        sandbox = options.sandbox
        self.base = (
            SANDBOX_API if sandbox and source.url == PRODUCTION_API else source.url
        ).rstrip("/")
        self.oauth_url = options.oauth_url or (SANDBOX_OAUTH if sandbox else PRODUCTION_OAUTH)
        self.client_id = ctx.environ.get("LEGIFRANCE_CLIENT_ID", "")
        self.client_secret = ctx.environ.get("LEGIFRANCE_CLIENT_SECRET", "")

    def token(self, *, renew: bool = False) -> str:
        cached = self.ctx.memory.get("token")
        if cached and not renew and cached[1] > time.monotonic():
            return str(cached[0])
        response = self.ctx.fetcher.request(
            "POST",
            self.oauth_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scope": "openid",
            },
        )
        body = _json(response.body if response else b"", "the OAuth token endpoint")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise ParseError(
                "Légifrance OAuth: no access_token in the answer (check the credentials)"
            )
        lifetime = float(body.get("expires_in") or 3600)
        self.ctx.memory["token"] = (token, time.monotonic() + lifetime - TOKEN_MARGIN)
        return str(token)

    def post(self, path: str, payload: Mapping[str, Any]) -> Any:
        """POST JSON with the cached token; a 401 renews the token and tries once more."""
        try:
            response = self._post(path, payload, self.token())
        except FetchError as exc:
            if exc.status != 401:
                raise
            logger.info("Légifrance token refused: renewing it")
            response = self._post(path, payload, self.token(renew=True))
        return _json(response.body if response else b"", path)

    def _post(self, path: str, payload: Mapping[str, Any], token: str) -> Response | None:
        headers = {"Authorization": f"Bearer {token}"}
        return self.ctx.fetcher.request("POST", f"{self.base}{path}", headers=headers, json=payload)


def poll_legifrance(
    source: SourceConfig, options: LegifranceOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """New texts of the last JO issues, with their full text."""
    api = _Api(source, options, ctx)
    issues = api.post("/consult/lastNJo", {"nbElement": options.issues})
    containers = issues.get("containers") if isinstance(issues, dict) else None
    if not isinstance(containers, list):
        raise ParseError("Légifrance lastNJo: no 'containers' list in the answer")
    done = [c for c in state.cursor.get("issues", "").split(",") if c]
    reading = _Reading(source, api, ctx, options.max_texts, _tries(state.cursor.get("failed", "")))
    for container in sorted(containers, key=lambda c: c.get("datePubli") or 0):
        issue_id = str(container.get("id", ""))
        if not issue_id or issue_id in done:
            continue
        try:
            complete = reading.issue(container, issue_id)
        except _QuotaReached:
            break
        if complete:
            done.append(issue_id)
    new_state = _with_failed(_with_done(state, done), reading.tries)
    return PollResult(reading.items, new_state, warnings=reading.warnings)


class _QuotaReached(Exception):
    """The API's quota ran out after some texts were read: those are kept, the rest waits."""


@dataclass
class _Reading:
    """One poll's reading of the issues' new texts, within ``max_texts``."""

    source: SourceConfig
    api: _Api
    ctx: PollContext
    budget: int  # full texts still to read in this poll
    tries: dict[str, int]  # polls that failed to read each text
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def issue(self, container: Mapping[str, Any], issue_id: str) -> bool:
        """Read the issue's new texts; whether all of them are done with."""
        published = _date(container.get("datePubli"))
        title = str(container.get("titre") or issue_id)
        links = list(_issue_texts(self.api, issue_id))
        known = self.ctx.known(link["id"] for link in links)
        complete = True
        for link in (link for link in links if link["id"] not in known):
            if self.ctx.backlog:
                # The backlog is only marked as seen: no need to spend quota on full texts.
                self.items.append(text_item(self.source.id, link, None, published, title))
                continue
            if self.budget <= 0:
                self.warnings.append(f"{title}: text limit reached, the rest next poll")
                return False
            self.budget -= 1
            complete = self._text(link, published, title) and complete
        return complete

    def _text(self, link: Mapping[str, str], published: datetime | None, title: str) -> bool:
        """Read one text's full text; whether it is done with (read, or kept by its title)."""
        try:
            text = self.api.post("/consult/jorf", {"textCid": link["id"]})
        except FetchError as exc:
            if exc.status == 429 and self.items:
                self.warnings.append(f"quota reached after {len(self.items)} text(s): {exc}")
                raise _QuotaReached from None
            if exc.status in (401, 429):
                raise
            failure: Exception = exc
        except ParseError as exc:
            failure = exc
        else:
            self.tries.pop(link["id"], None)
            self.items.append(text_item(self.source.id, link, text, published, title))
            return True
        # One text that fails does not fail the others: they are stored and
        # alerted, this one is tried again at the next polls, then stored from
        # its table-of-contents entry so that its issue is not blocked forever.
        self.tries[link["id"]] = self.tries.get(link["id"], 0) + 1
        if self.tries[link["id"]] < MAX_TEXT_TRIES:
            self.warnings.append(f"{link['id']}: {failure}; tried again next poll")
            return False
        self.tries.pop(link["id"])
        self.items.append(text_item(self.source.id, link, None, published, title))
        self.warnings.append(
            f"{link['id']}: full text unreadable {MAX_TEXT_TRIES} times ({failure}); "
            "kept with its title only"
        )
        return True


def _tries(text: str) -> dict[str, int]:
    """``JORFTEXT…:2,JORFTEXT…:1``: how many polls failed to read each text."""
    tries = {}
    for part in text.split(","):
        text_id, _, count = part.partition(":")
        if text_id and count.isdigit():
            tries[text_id] = int(count)
    return tries


def _with_failed(state: SourceState, tries: Mapping[str, int]) -> SourceState:
    cursor = {k: v for k, v in state.cursor.items() if k != "failed"}
    if tries:
        cursor["failed"] = ",".join(f"{text_id}:{count}" for text_id, count in tries.items())
    return SourceState(state.etag, state.last_modified, state.content_hash, cursor)


KIND = SourceKind(
    "legifrance",
    LegifranceOptions,
    poll_legifrance,
    "Légifrance",
    family="jo",
    default_url=PRODUCTION_API,
    required_env=("LEGIFRANCE_CLIENT_ID", "LEGIFRANCE_CLIENT_SECRET"),
    no_fulltext="reads each text's full text already (consult/jorf); remove fulltext",
)


def _with_done(state: SourceState, done: list[str]) -> SourceState:
    cursor = dict(state.cursor)
    cursor["issues"] = ",".join(done[-REMEMBERED_ISSUES:])
    return SourceState(state.etag, state.last_modified, state.content_hash, cursor)


def _issue_texts(api: _Api, issue_id: str) -> Iterator[dict[str, str]]:
    """Every text of an issue's table of contents, at every level.

    ``pageSize`` counts the answer's ``items`` (issue containers, one per issue
    here), not texts: an issue of 101 texts is one short page, and reading on
    would fetch the same container again (Swagger in fixtures/real/legifrance;
    legifrss reads an issue in one call).
    """
    seen: set[str] = set()
    for page in range(1, MAX_PAGES + 1):
        answer = api.post(
            "/consult/jorfCont", {"id": issue_id, "pageNumber": page, "pageSize": PAGE_SIZE}
        )
        entries = answer.get("items") if isinstance(answer, dict) else None
        entries = entries if isinstance(entries, list) else []
        fresh = 0
        for entry in entries:
            structure = (entry.get("joCont") or {}).get("structure") or {}
            for link in _walk(structure):
                if link["id"] not in seen:
                    fresh += 1
                    seen.add(link["id"])
                    yield link
        if len(entries) < PAGE_SIZE or not fresh:
            return


def _walk(level: Mapping[str, Any], section: str = "") -> Iterator[dict[str, str]]:
    """Texts of one level (``liens`` or ``liensTxt``) and of its nested ``tms``."""
    title = str(level.get("titre") or section)
    for key in ("liens", "liensTxt"):
        for link in level.get(key) or []:
            text_id = str(link.get("id") or link.get("cid") or "")
            if text_id.startswith("JORFTEXT"):
                yield {
                    "id": text_id,
                    "titre": str(link.get("titre") or link.get("title") or ""),
                    "nature": str(link.get("nature") or ""),
                    "ministere": str(link.get("ministere") or link.get("emetteur") or title),
                }
    for child in level.get("tms") or []:
        yield from _walk(child, title)


def _date(value: object) -> datetime | None:
    """``datePubli`` is epoch milliseconds at 00:00 UTC of the issue's day."""
    if isinstance(value, int | float) and value > 0:
        return from_epoch(value / 1000)  # clamped: a sentinel cannot overflow
    return None


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise ParseError(f"Légifrance {what}: the answer is not JSON") from None
