"""Several delivery targets at once through ``watcher run``: Telegram (the fake Bot API),
Mastodon (a fake instance) and webhooks (a local receiver), each alert once on each."""

import dataclasses
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import PYTHON, python_env, run
from tests.fake_receivers import MASTODON_TOKEN, Receivers, running_receivers, verify
from tests.fake_telegram import TOKEN, FakeTelegram, running_fake_telegram
from tests.feed_server import FeedServer
from watcher.config import Config, parse_config
from watcher.delivery.active import active_targets, audience
from watcher.delivery.base import TargetConfig, TargetKind
from watcher.delivery.http import wait_seconds
from watcher.delivery.mastodon import hashtag, status_text
from watcher.delivery.render import AlertView
from watcher.delivery.targets import KINDS, missing_secrets, target_secrets
from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.routing import routes
from watcher.store import Store
from watcher.store.subscribers import Subscribers

CHAT = 5151
MAINTAINER = 777000
SECRET = "webhook-shared-secret"
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)

TOPICS = """
topics:
  biometrie:
    label: Surveillance biométrique
    keywords: [reconnaissance faciale, biométrique]
  drones:
    label: Drones
    keywords: [drone(s)]
"""


def feed(items: list[tuple[int, str]]) -> bytes:
    entries = "".join(
        f"<item><title>Texte n° {n} : {words}</title><link>https://example.org/t/{n}</link>"
        f"<guid>t-{n}</guid><pubDate>Mon, 02 Dec 2024 10:{n % 60:02d}:00 GMT</pubDate>"
        f"<description>Le texte encadre {words}.</description></item>"
        for n, words in items
    )
    return (
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description>{entries}</channel></rss>"
    ).encode()


def write_feeds_yml(workdir: Path, feed_url: str, receivers: Receivers, targets: str) -> None:
    (workdir / "feeds.yml").write_text(
        TOPICS
        + f"""
settings:
  delivery_backoff: 1s
maintainers: [{MAINTAINER}]
sources:
  - id: src
    name: Sénat
    url: {feed_url}
    interval: 1s
targets:
{targets.format(base=receivers.base_url)}
""",
        encoding="utf-8",
    )


ALL_TARGETS = """
  - kind: telegram
  - kind: mastodon
    base_url: {base}
    token_env: MASTODON_TOKEN
  - kind: webhook
    url: {base}/hook
    secret_env: HOOK_SECRET
  - kind: webhook
    name: drones-only
    url: {base}/drones
    secret_env: HOOK_SECRET
    topics: [drones]
"""


@pytest.fixture
def telegram() -> Iterator[tuple[FakeTelegram, str]]:
    with running_fake_telegram() as (fake, api_url):
        yield fake, api_url


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    with running_receivers() as state:
        yield state


def environment(api_url: str) -> dict[str, str]:
    return python_env(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api_url,
        MASTODON_TOKEN=MASTODON_TOKEN,
        HOOK_SECRET=SECRET,
    )


def first_poll(workdir: Path, env: dict[str, str]) -> None:
    """The feed's backlog seen (no alert), and one subscribed chat."""
    done = subprocess.run(
        [PYTHON, "-m", "watcher", "poll"], cwd=workdir, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    subscribers = Subscribers(Store(workdir / "watcher.db"))
    subscribers.start(CHAT, "private", now=datetime.now(UTC))
    subscribers.subscribe(CHAT, "biometrie")
    subscribers.subscribe(CHAT, "drones")


def test_each_alert_reaches_each_target_once_through_watcher_run(
    workdir: Path, feed_server: FeedServer, telegram: tuple[FakeTelegram, str], receivers: Receivers
) -> None:
    fake, api_url = telegram
    env = environment(api_url)
    url = feed_server.serve("/feed", feed([]))
    write_feeds_yml(workdir, url, receivers, ALL_TARGETS)
    first_poll(workdir, env)
    # Mastodon first says "too many requests"; the webhook first fails with a 500.
    receivers.script = {"/api/v1/statuses": [429], "/hook": [500]}
    feed_server.serve("/feed", feed([(1, "la reconnaissance faciale"), (2, "les drones")]))
    log = (workdir / "run.log").open("w")
    process = subprocess.Popen(
        [PYTHON, "-m", "watcher", "run"], cwd=workdir, env=env, stdout=log, stderr=log
    )
    try:
        receivers.wait_for(lambda: len(receivers.statuses) == 2, "two Mastodon statuses")
        receivers.wait_for(lambda: len(receivers.posts("/hook")) == 3, "the webhook's retry")
        receivers.wait_for(lambda: receivers.posts("/drones"), "the filtered webhook")
        fake.wait_for(lambda: len(fake.messages_to(CHAT)) == 2)
        process.terminate()
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    stderr = (workdir / "run.log").read_text()

    # Telegram: the chat got both alerts, once each.
    texts = [m.text for m in fake.messages_to(CHAT)]
    assert sorted(t.count("Texte n° 1") + 2 * t.count("Texte n° 2") for t in texts) == [1, 2]
    # Mastodon: the 429 then success made one status per alert, not two.
    mastodon = receivers.posts("/api/v1/statuses")
    assert [r.headers.get("idempotency-key") for r in mastodon].count(None) == 0
    assert len(mastodon) == 3 and len(receivers.statuses) == 2
    statuses = sorted(s["content"] for s in receivers.statuses.values())
    assert all(len(s) <= 500 and s.startswith("Texte n° ") for s in statuses)
    assert "#ReconnaissanceFaciale" in statuses[0] and "https://example.org/t/1" in statuses[0]
    assert "#drones" in statuses[1]
    assert {s["visibility"] for s in receivers.statuses.values()} == {"unlisted"}
    # Webhook: 500 then success, each payload signed, the schema's fields there.
    hooks = receivers.posts("/hook")
    assert sorted({r.json()["title"] for r in hooks}) == [
        "Texte n° 1 : la reconnaissance faciale",
        "Texte n° 2 : les drones",
    ]
    assert all(verify(SECRET, r) for r in hooks)
    assert not verify("another secret", hooks[0])
    payload = next(r.json() for r in hooks if r.json()["topic"] == "drones")
    assert payload["schema"] == "watcher.alert/1"
    assert payload["source"] == {"id": "src", "name": "Sénat"}
    assert payload["link"] == "https://example.org/t/2"
    assert payload["matched_words"] == ["drones"]
    assert {"id", "territory", "excerpt", "event", "dossier"} <= set(payload)
    # The filtered webhook: only the drones alert.
    assert [r.json()["topic"] for r in receivers.posts("/drones")] == ["drones"]
    db = sqlite3.connect(workdir / "watcher.db")
    rows = db.execute("SELECT target, status, COUNT(*) FROM alerts GROUP BY 1, 2").fetchall()
    assert sorted(rows) == [
        ("drones-only", "sent", 1),
        ("mastodon", "sent", 2),
        ("telegram", "sent", 2),
        ("webhook", "sent", 2),
    ]
    assert MASTODON_TOKEN not in stderr and SECRET not in stderr
    status = run("status").out.splitlines()
    assert status[-4:] == [
        "  drones-only: 1 sent",
        "  mastodon: 2 sent",
        "  telegram: 2 sent",
        "  webhook: 2 sent",
    ]


def test_a_webhook_refusing_for_good_is_told_to_the_maintainers_once(
    workdir: Path, feed_server: FeedServer, telegram: tuple[FakeTelegram, str], receivers: Receivers
) -> None:
    fake, api_url = telegram
    env = environment(api_url)
    url = feed_server.serve("/feed", feed([]))
    targets = (
        "  - kind: telegram\n  - kind: webhook\n    url: {base}/gone\n    secret_env: HOOK_SECRET\n"
    )
    write_feeds_yml(workdir, url, receivers, targets)
    first_poll(workdir, env)
    receivers.forever = {"/gone": 410}
    feed_server.serve("/feed", feed([(1, "la reconnaissance faciale"), (2, "les drones")]))
    done = subprocess.run(
        [PYTHON, "-m", "watcher", "poll"], cwd=workdir, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert len(receivers.posts("/gone")) == 2  # no retry of a 410
    # (The feed empty at the first poll is a drift the maintainers hear of too.)
    notices = [m.text for m in fake.messages_to(MAINTAINER) if "webhook" in m.text]
    assert len(notices) == 1 and "410" in notices[0]
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT status FROM alerts WHERE target = 'webhook'").fetchall() == [
        ("refused",),
        ("refused",),
    ]


def test_sigkill_during_delivery_then_restart_loses_and_doubles_nothing(
    workdir: Path, feed_server: FeedServer, telegram: tuple[FakeTelegram, str], receivers: Receivers
) -> None:
    _fake, api_url = telegram
    env = environment(api_url)
    url = feed_server.serve("/feed", feed([]))
    targets = (
        "  - kind: mastodon\n    base_url: {base}\n    token_env: MASTODON_TOKEN\n"
        "  - kind: webhook\n    url: {base}/hook\n    secret_env: HOOK_SECRET\n"
    )
    write_feeds_yml(workdir, url, receivers, targets)
    first_poll(workdir, env)
    receivers.delay = 0.3
    feed_server.serve("/feed", feed([(n, "la reconnaissance faciale") for n in range(1, 9)]))
    process = subprocess.Popen(
        [PYTHON, "-m", "watcher", "run"], cwd=workdir, env=env, stderr=subprocess.DEVNULL
    )
    receivers.wait_for(lambda: len(receivers.posts("/hook")) >= 3, "deliveries under way")
    process.kill()
    process.wait()
    assert len(receivers.posts("/hook")) < 8  # killed mid-delivery

    receivers.delay = 0.0
    done = subprocess.run(
        [PYTHON, "-m", "watcher", "poll"], cwd=workdir, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    ids = [r.json()["id"] for r in receivers.posts("/hook")]
    assert len(set(ids)) == 8  # nothing lost
    assert len(ids) - 8 <= 1  # at most the POST in flight at the kill, same id
    assert len(receivers.statuses) == 8  # Mastodon: the Idempotency-Key made repeats one


@pytest.mark.parametrize(
    ("targets", "error"),
    [
        ("  - kind: pigeon\n", "feeds.yml: targets[0].kind: 'pigeon' must be one of"),
        (
            "  - kind: webhook\n    url: ftp://x\n    secret_env: S\n",
            "feeds.yml: targets[0].url: 'ftp://x' must be an http(s) URL",
        ),
        (
            "  - kind: mastodon\n    base_url: https://m.example\n    token_env: abc\n",
            "feeds.yml: targets[0].token_env: 'abc' must name an environment variable",
        ),
        (
            "  - kind: webhook\n    url: https://x.example\n    secret_env: S\n    topics: [nope]\n",
            "feeds.yml: targets[0].topics[0]: unknown topic 'nope'",
        ),
        (
            "  - kind: console\n  - kind: console\n",
            "feeds.yml: targets[1].name: 'console' is used twice",
        ),
        (
            "  - kind: mastodon\n    base_url: https://m.example\n    token_env: T\n"
            "    visibilty: public\n",
            "feeds.yml: targets[0].visibilty: unknown key; expected one of kind, name, topics, "
            "territories, base_url, token_env, visibility",
        ),
        (
            "  - kind: mastodon\n    base_url: https://m.example\n    token_env: T\n"
            "    visibility: loud\n",
            "feeds.yml: targets[0].visibility: 'loud' must be one of public, unlisted, private, "
            "direct",
        ),
        (
            "  - kind: webhook\n    url: https://x.example\n",
            "feeds.yml: targets[0].secret_env: is missing; name the environment variable that "
            "holds the signing secret",
        ),
        (
            "  - kind: telegram\n    channels:\n      - chat_id: '@veille'\n"
            "        topics: [biometrie, drone]\n",
            "feeds.yml: targets[0].channels[0].topics[1]: unknown topic 'drone'",
        ),
        (
            "  - kind: telegram\n    channels:\n      - chat_id: veille\n",
            "feeds.yml: targets[0].channels[0].chat_id: 'veille' must be a numeric chat id or "
            "an @channelname",
        ),
        (
            "  - kind: telegram\n    channels:\n      - {chat_id: 12, topic: [drones]}\n",
            "feeds.yml: targets[0].channels[0].topic: unknown key; expected one of chat_id, topics",
        ),
        (
            "  - kind: telegram\n    name: bot2\n",
            "feeds.yml: targets[0].name: the telegram target is named telegram (one bot per token)",
        ),
        (
            "  - kind: console\n    territories: [Bretagne, '']\n",
            "feeds.yml: targets[0].territories[1]: must be a non-empty string naming the place",
        ),
        (
            "  - kind: console\n    colour: blue\n",
            "feeds.yml: targets[0].colour: unknown key; expected one of kind, name, topics, "
            "territories",
        ),
    ],
    ids=[
        "kind",
        "url",
        "env-name",
        "topic",
        "twice",
        "typo",
        "choice",
        "missing",
        "channel-topic",
        "chat-id",
        "channel-key",
        "telegram-name",
        "territory",
        "console-key",
    ],
)
def test_bad_targets_are_one_clear_line(workdir: Path, targets: str, error: str) -> None:
    (workdir / "feeds.yml").write_text(
        TOPICS + "sources:\n  - id: s\n    url: https://example.org/f\ntargets:\n" + targets,
        encoding="utf-8",
    )
    result = run("validate")
    assert result.code == 1
    assert result.err.startswith("watcher: " + error), result.err


def test_a_missing_secret_stops_the_run_before_polling(workdir: Path) -> None:
    (workdir / "feeds.yml").write_text(
        TOPICS
        + "sources:\n  - id: s\n    url: https://example.org/f\ntargets:\n"
        + "  - kind: webhook\n    url: https://x.example/h\n    secret_env: HOOK_SECRET_UNSET\n",
        encoding="utf-8",
    )
    result = run("poll")
    assert result.code == 1
    assert result.err.strip() == "watcher: feeds.yml: targets: webhook: set HOOK_SECRET_UNSET"


def view(title: str, words: tuple[str, ...], **extra: object) -> AlertView:
    item = Item(source_id="src", key="k", title=title, url="https://example.org/t/1")
    match = TopicMatch("biometrie", "Biométrie", words, None, words)
    return AlertView("Sénat", item, (match,), {"biometrie": "Biométrie"}, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("words", "tag"),
    [
        ("biométrique", "#biométrique"),
        ("reconnaissance faciale", "#ReconnaissanceFaciale"),
        ("vidéo-surveillance", "#VidéoSurveillance"),
        ("L. 251-2", None),
        ("2024", None),
    ],
    ids=["word", "phrase", "hyphen", "reference", "number"],
)
def test_matched_words_become_hashtags_only_where_they_are_words(
    words: str, tag: str | None
) -> None:
    assert hashtag(words) == tag


def test_a_status_fits_500_characters_whatever_the_title() -> None:
    long_title = "Proposition de loi " + "relative à la surveillance " * 40
    text = status_text(
        view(long_title, ("reconnaissance faciale",), territory="Île-de-France", event_at=None)
    )
    assert len(text) <= 500
    assert text.endswith("#ReconnaissanceFaciale")
    assert "https://example.org/t/1" in text and "📍 Île-de-France · Sénat" in text


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"X-RateLimit-Reset": "2026-12-07T06:00:30.000Z"}, 30.0),
        ({"Retry-After": "12"}, 12.0),
        ({"Retry-After": "Mon, 07 Dec 2026 06:01:00 GMT"}, 60.0),
        ({"X-RateLimit-Reset": str(int(NOW.timestamp()) + 90)}, 90.0),
        ({}, 60.0),
    ],
    ids=["mastodon-iso", "seconds", "http-date", "unix-time", "nothing-said"],
)
def test_how_long_a_429_asks_to_wait(headers: dict[str, str], seconds: float) -> None:
    assert wait_seconds(httpx.Headers(headers), now=NOW) == pytest.approx(seconds)


def test_a_target_filtered_by_territory_gets_its_places_and_the_national_texts() -> None:
    config = TargetConfig("webhook", "idf", None, frozenset({"Île-de-France"}))
    everyone = TargetConfig("console", "console")
    recipients = audience([config, everyone], ["biometrie"], {})
    by_place = {
        place: sorted(r.target for r in routes(["biometrie"], recipients, place))
        for place in ("Île-de-France", "Bretagne", "")
    }
    assert by_place == {
        "Île-de-France": ["console", "idf"],
        "Bretagne": ["console"],
        "": ["console", "idf"],  # a national source reaches every target
    }


def test_a_telegram_target_reads_its_token_where_it_says_and_keeps_channels_working(
    workdir: Path,
    feed_server: FeedServer,
    telegram: tuple[FakeTelegram, str],
    receivers: Receivers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, api_url = telegram
    monkeypatch.setenv("OUR_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", api_url)
    url = feed_server.serve("/feed", feed([]))
    targets = (
        "  - kind: telegram\n    token_env: OUR_BOT_TOKEN\n"
        "    channels:\n      - chat_id: '@drones'\n        topics: [drones]\n"
        "channels:\n  - chat_id: '@veille'\n    topics: [biometrie]\n"
    )
    write_feeds_yml(workdir, url, receivers, targets)
    assert run("poll").code == 0
    feed_server.serve("/feed", feed([(1, "la reconnaissance faciale"), (2, "les drones")]))
    result = run("poll")
    assert result.code == 0, result.err
    assert ["Texte n° 1" in m.text for m in fake.messages_to("@veille")] == [True]
    assert ["Texte n° 2" in m.text for m in fake.messages_to("@drones")] == [True]


def config_with(targets: str, channels: str = "") -> Config:
    text = TOPICS + "sources:\n  - id: s\n    url: https://example.org/f\n"
    return parse_config(text + channels + "targets:\n" + targets, Path("feeds.yml"))


def test_a_channel_without_topics_gets_every_topic_whichever_list_it_is_in() -> None:
    config = config_with(
        "  - kind: telegram\n    channels:\n      - chat_id: -100200\n",
        channels="channels:\n  - chat_id: '@veille'\n",
    )
    targets = active_targets(config, {"TELEGRAM_BOT_TOKEN": TOKEN})
    wanted = {r.destination: r.topics for r in audience(targets, list(config.topics), {})}
    assert wanted == {"@veille": {"biometrie", "drones"}, "-100200": {"biometrie", "drones"}}


def test_the_secrets_a_run_needs_are_the_options_that_name_a_variable() -> None:
    config = config_with(
        "  - kind: telegram\n    token_env: OUR_BOT_TOKEN\n"
        "  - kind: mastodon\n    base_url: https://m.example\n    token_env: MASTODON_TOKEN\n"
        "  - kind: webhook\n    url: https://x.example/h\n    secret_env: HOOK_SECRET\n"
        "  - kind: console\n"
    )
    assert target_secrets(config.targets) == ["OUR_BOT_TOKEN", "MASTODON_TOKEN", "HOOK_SECRET"]
    assert missing_secrets(config.targets, {"MASTODON_TOKEN": "t", "HOOK_SECRET": " "}) == [
        "targets: telegram: set OUR_BOT_TOKEN",
        "targets: webhook: set HOOK_SECRET",
    ]


@pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
def test_each_target_kind_declares_its_keys_with_the_shared_vocabulary(kind: TargetKind) -> None:
    assert dataclasses.is_dataclass(kind.options)
    assert kind.options.__dataclass_params__.frozen  # type: ignore[attr-defined]
    for declared in dataclasses.fields(kind.options):
        assert callable(declared.metadata.get("parse")), (kind.name, declared.name)


def test_the_readme_shows_the_webhook_as_it_is_declared() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("- **a delivery target**") : readme.index("- **a bot command**")]
    example = section[section.index("```python\n") + 10 : section.index("  ```\n", 10)]
    module = (Path(__file__).parents[1] / "watcher/delivery/webhook.py").read_text("utf-8")
    code = [line.strip().split("  #")[0].rstrip() for line in example.splitlines()]
    assert "KIND = TargetKind(NAME, WebhookOptions, _open)" in code
    for line in filter(None, code):
        assert line in module, line
