"""Webhooks as a delivery target: one signed JSON POST per alert.

The body follows a versioned schema (``SCHEMA``; README "Webhook payload"): a
field is never renamed or removed within a version, only added. The receiver
checks ``X-Watcher-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body
keyed with the secret that ``secret_env`` names, and can drop repeats by ``id``
(or the ``X-Watcher-Delivery`` header): a POST that timed out may have arrived,
and is sent again. 5xx, 408 and network errors are retried from the outbox for
as long as it takes; a 429 holds the webhook as long as it asks; any other 4xx
ends the alert and the maintainers are told once (``delivery.http``).
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from watcher import fields
from watcher.delivery import http
from watcher.delivery.base import Host, Message, Opened, TargetConfig, TargetKind
from watcher.delivery.outcome import Outcome, Refused
from watcher.delivery.render import AlertView
from watcher.fields import env_name, option

NAME = "webhook"
SCHEMA = "watcher.alert/1"
SIGNATURE_HEADER = "X-Watcher-Signature"


@dataclass(frozen=True)
class WebhookOptions:
    """Its feeds.yml keys: where to POST, and the variable holding the signing secret."""

    url: str = option(parse=fields.url, missing="give the receiver's http(s) URL")
    secret_env: str = option(
        parse=env_name, missing="name the environment variable that holds the signing secret"
    )


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def payload(view: AlertView, key: str) -> dict[str, Any]:
    """The JSON document of one alert, schema ``watcher.alert/1``."""
    item = view.item
    excerpt = view.excerpt
    topics = [m.topic for m in view.matches]
    return {
        "schema": SCHEMA,
        "id": key,
        "reason": "follow-up" if view.follow_up else "update" if view.update else "new",
        "topic": topics[0] if topics else None,
        "topics": [{"id": t, "label": view.topic_labels.get(t, t)} for t in topics],
        "source": {"id": item.source_id, "name": view.source_name},
        "territory": view.territory or None,
        "title": item.title,
        "link": item.url,
        "published": _iso(item.published),
        "excerpt": excerpt.text if excerpt else None,
        "matched_words": view.keywords,
        "event": {"date": _iso(view.event_at), "label": view.event_label}
        if view.event_at
        else None,
        "dossier": item.dossier or None,
        "stage": view.follow_up or None,
    }


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: ``sha256=`` and the HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WebhookTarget:
    """POSTs each alert to one URL."""

    client: httpx.AsyncClient
    options: WebhookOptions
    secret: str
    name: str = NAME
    groups: bool = False
    overall_rate: float = 10.0

    def spacing(self, destination: str) -> float:
        return 0.0

    async def send(self, destination: str, message: Message) -> Outcome:
        if message.view is None:
            return Refused("a webhook POST carries one alert")
        body = json.dumps(payload(message.view, message.key), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(body, self.secret),
            "X-Watcher-Delivery": message.key,
            "User-Agent": "watcher (legislative watch)",
        }
        try:
            response = await self.client.post(self.options.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return http.failure_of(exc)
        return http.outcome_of(response, now=datetime.now(UTC))


def _open(target: TargetConfig, host: Host) -> Opened:
    options: WebhookOptions = target.options
    client = http.client()
    secret = host.environ[options.secret_env]
    return Opened(WebhookTarget(client, options, secret, name=target.name), close=client.aclose)


KIND = TargetKind(NAME, WebhookOptions, _open)
