"""Mastodon as a delivery target: one status per alert on one account.

``POST /api/v1/statuses`` (https://docs.joinmastodon.org/methods/statuses/#create)
with the account's token (read from the variable ``token_env`` names) and an
``Idempotency-Key`` that is the same for every attempt at one alert, so a retry
after a timeout never posts twice (Mastodon keeps keys for an hour; the outbox
retries sooner than that). A 429 holds the account until ``X-RateLimit-Reset``
(an ISO 8601 timestamp, e.g. ``x-ratelimit-reset: 2020-09-08T13:25:00.019685Z``
as shown in https://qiita.com/KEINOS/items/8ad7a88d42e94d894f0d), recorded in the
outbox so a restart honours it too.

A status is at most 500 characters: the title (shortened if it must be), the
place, the vote or debate date (else the publication date), the link, and the
words that matched as hashtags where they are words.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from watcher.delivery import http
from watcher.delivery.base import Host, Message, Opened, TargetConfig, TargetKind
from watcher.delivery.outcome import Outcome, Refused
from watcher.delivery.render import AlertView, event_line
from watcher.fields import env_name, one_of, option, url

NAME = "mastodon"
STATUS_LIMIT = 500
MIN_TITLE = 80  # a title is not shortened below this to keep hashtags
VISIBILITIES = ("public", "unlisted", "private", "direct")
# A word, in any script: letters only, so "L. 251-2" or "2024" make no hashtag.
_WORD = re.compile(r"^[^\W\d_]+$")


@dataclass(frozen=True)
class MastodonOptions:
    """Its feeds.yml keys: the instance, the variable holding the token, the visibility."""

    base_url: str = option(
        parse=url, missing="give the instance's address, like https://mastodon.social"
    )
    token_env: str = option(
        parse=env_name, missing="name the environment variable that holds the account's token"
    )
    visibility: str = option("unlisted", parse=one_of(*VISIBILITIES))


def hashtag(words: str) -> str | None:
    """``reconnaissance faciale`` -> ``#ReconnaissanceFaciale``; None when not words."""
    parts = [p for p in re.split(r"[\s'’-]+", words.strip()) if p]
    if not parts or not all(_WORD.match(p) for p in parts):
        return None
    if len(parts) == 1:
        return "#" + parts[0]
    return "#" + "".join(p[:1].upper() + p[1:] for p in parts)


def status_text(view: AlertView, *, limit: int = STATUS_LIMIT) -> str:
    """The status for one alert, within ``limit`` characters."""
    place = " · ".join(p for p in (view.territory, view.source_name) if p)
    event = event_line(view)
    when = event[1] if event else (f"📄 publié le {view.date}" if view.date else "")
    tags = list(dict.fromkeys(t for w in view.keywords if (t := hashtag(w))))
    tail = [line for line in (f"📍 {place}" if place else "", when, view.item.url or "") if line]
    title = " ".join((view.item.title or "(sans titre)").split())
    if view.follow_up:
        title = f"🔁 {view.follow_up} : {title}"
    # The title gives way first (down to MIN_TITLE characters), then the hashtags.
    while True:
        rest = "\n".join([*tail] + ([" ".join(tags)] if tags else []))
        budget = limit - len(rest) - 1
        if len(title) <= budget:
            return f"{title}\n{rest}"
        if budget >= MIN_TITLE or not tags:
            return f"{_shorten(title, budget)}\n{rest}"[:limit]
        tags.pop()


def _shorten(text: str, size: int) -> str:
    if size <= 1:
        return ""
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


@dataclass
class MastodonTarget:
    """Posts each alert as a status of one account."""

    client: httpx.AsyncClient
    options: MastodonOptions
    token: str
    name: str = NAME
    groups: bool = False  # one status per alert, no digest
    overall_rate: float = 1.0  # 300 requests per 5 minutes per account

    def spacing(self, destination: str) -> float:
        return 1.0

    async def send(self, destination: str, message: Message) -> Outcome:
        if message.view is None:
            return Refused("a Mastodon status carries one alert")
        url = self.options.base_url.rstrip("/") + "/api/v1/statuses"
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": message.key}
        body = {"status": status_text(message.view), "visibility": self.options.visibility}
        if message.reply_to is not None:  # a followed dossier's next stage: one thread
            body["in_reply_to_id"] = str(message.reply_to)
        try:
            response = await self.client.post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return http.failure_of(exc)
        status_id = _status_id(response) if response.is_success else None
        return http.outcome_of(response, now=datetime.now(UTC), message_id=status_id)


def _status_id(response: httpx.Response) -> int | None:
    try:
        value = response.json().get("id")
    except (ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _open(target: TargetConfig, host: Host) -> Opened:
    options: MastodonOptions = target.options
    client = http.client()
    token = host.environ[options.token_env]
    return Opened(MastodonTarget(client, options, token, name=target.name), close=client.aclose)


KIND = TargetKind(NAME, MastodonOptions, _open)
