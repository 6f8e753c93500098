"""The review queue: a near miss held (not alerted), shown, labelled, then scored.

Through `watcher poll` + `watcher review` + `watcher backtest`, and through the
bot (`watcher run` against the fake Bot API): /revue, a 👍 / 👎 button, the
labels file, the next backtest.
"""

import json
import sqlite3
import subprocess
from pathlib import Path

from tests.conftest import PYTHON, python_env, run
from tests.fake_telegram import TOKEN, parse_entities, running_fake_telegram
from tests.feed_server import FeedServer
from tests.waiting import wait_until

MAINTAINER = 777
TOPIC = """topics:
  biometrie:
    label: Surveillance biométrique
    keywords: [reconnaissance faciale]
    weak: [biométrie, biométrique]
    weak_title: true
    negation:
      words: [aucun(e), "ne … pas"]
      within: 6
"""


def rss(*entries: tuple[str, str, str]) -> bytes:
    """An RSS 2.0 feed of (guid, title, description) items."""
    items = "".join(
        f"<item><title>{title}</title><link>https://example.org/{guid}</link>"
        f"<guid>{guid}</guid><description>{text}</description></item>"
        for guid, title, text in entries
    )
    return (
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description>{items}</channel></rss>"
    ).encode()


FIRST = ("old-1", "Ordre du jour", "Budget primitif.")
LONE_WEAK = (
    "weak-1",
    "Recrutement au laboratoire",
    "Le service de biométrie du laboratoire recrute un agent d'entretien.",
)
NEGATED = (
    "neg-1",
    "Arrêté relatif au fichier des cartes de stationnement",
    "Le traitement ne collecte aucune donnée biométrique.",
)
ALERT = ("hit-1", "Délibération", "Expérimentation de la reconnaissance faciale au stade.")
TITLE_WEAK = ("title-1", "Passeports biométriques", "La mairie délivre les passeports.")


def write_feeds(workdir: Path, url: str, extra: str = "") -> None:
    (workdir / "feeds.yml").write_text(
        TOPIC
        + f"sources:\n  - {{id: mairie, name: Mairie, kind: rss, url: '{url}', interval: 1s}}\n"
        + extra,
        encoding="utf-8",
    )


def test_near_misses_are_held_listed_labelled_and_scored(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", rss(FIRST))
    write_feeds(workdir, url)
    assert run("poll").code == 0  # the backlog: neither alerted nor reviewed
    feed_server.serve("/feed", rss(FIRST, LONE_WEAK, NEGATED, ALERT, TITLE_WEAK))
    polled = run("poll")
    assert polled.code == 0
    # A weak word in the title is a second signal, and the alert says so.
    assert "Passeports biométriques" in polled.out and "Signaux : titre : biométrique" in polled.out
    assert "Recrutement au laboratoire" not in polled.out  # held, not alerted

    listed = run("review")
    assert listed.code == 0
    assert "[biometrie] Recrutement au laboratoire" in listed.out
    assert "held: signal faible seul : biométrie (1 fois)" in listed.out
    assert "held: ignoré : négation (aucun(e))" in listed.out
    assert "Délibération" not in listed.out  # it alerted: nothing to review
    assert "(2 of 2 waiting" in listed.out
    first, second = (int(line.split()[0][1:]) for line in listed.out.splitlines() if line[0] == "#")

    assert run("review", "--relevant", str(first)).code == 0
    assert run("review", "--not-relevant", str(second)).code == 0
    assert run("review").out.startswith("no near miss waiting")
    labels = [
        json.loads(line) for line in (workdir / "review-labels.jsonl").read_text().splitlines()
    ]
    assert [(x["title"], x["relevant"], x["topic"], x["kind"]) for x in labels] == [
        ("Recrutement au laboratoire", True, "biometrie", "rss"),
        ("Arrêté relatif au fichier des cartes de stationnement", False, "biometrie", "rss"),
    ]
    assert "biométrie" in labels[0]["summary"]  # the text is kept for later backtests

    scored = run("backtest", "--input", "review-labels.jsonl")
    assert "labelled: 2 (ambiguous left out), recall: 0.000" in scored.err
    assert "miss: mairie:weak-1:biometrie: Recrutement au laboratoire" in scored.err
    # Tuning: "biométrie" made a keyword. The backtest shows what the change flips.
    (workdir / "old.yml").write_text((workdir / "feeds.yml").read_text(), encoding="utf-8")
    write_feeds(workdir, url)
    text = (
        (workdir / "feeds.yml")
        .read_text()
        .replace(
            "keywords: [reconnaissance faciale]", "keywords: [reconnaissance faciale, biométrie]"
        )
    )
    (workdir / "feeds.yml").write_text(text, encoding="utf-8")
    tuned = run("backtest", "--input", "review-labels.jsonl", "--compare", "old.yml")
    assert "recall: 1.000, precision: 1.000" in tuned.err
    assert "  + mairie:weak-1:biometrie: Recrutement au laboratoire (relevant)" in tuned.err


def test_labelling_an_unknown_entry_is_one_clear_error(
    workdir: Path, feed_server: FeedServer
) -> None:
    write_feeds(workdir, feed_server.serve("/feed", rss(FIRST)))
    assert run("poll").code == 0
    result = run("review", "--relevant", "99")
    assert result.code == 1
    assert result.err.strip() == "watcher: no near miss #99 in the review queue"


def test_revue_in_telegram_labels_a_near_miss_with_a_button(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", rss(FIRST))
    write_feeds(workdir, url, extra=f"maintainers: [{MAINTAINER}]\n")
    with running_fake_telegram() as (fake, api_url):
        log = workdir / "watcher.log"
        with log.open("w") as log_file:
            process = subprocess.Popen(
                [PYTHON, "-m", "watcher", "run"],
                cwd=workdir,
                env=python_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url),
                stdout=log_file,
                stderr=log_file,
                text=True,
            )
        try:
            fake.wait_for(lambda: fake.calls_of("getUpdates") and feed_server.hits("/feed"))
            feed_server.serve("/feed", rss(FIRST, LONE_WEAK))

            def queued() -> int:
                with sqlite3.connect(workdir / "watcher.db") as db:
                    return int(db.execute("SELECT COUNT(*) FROM review_queue").fetchone()[0])

            wait_until(lambda: queued() == 1, "the near miss to be queued", 30)
            assert not fake.messages_to(MAINTAINER)  # held, not alerted

            fake.push_message(MAINTAINER, "/revue")
            fake.wait_for(lambda: len(fake.messages_to(MAINTAINER)) >= 2)
            shown, summary = fake.messages_to(MAINTAINER)[:2]
            text, error = parse_entities(shown.text)
            assert error is None
            assert "Recrutement au laboratoire" in text
            assert "Retenu : signal faible seul : biométrie (1 fois)" in text
            assert "Le service de biométrie du laboratoire" in text  # the excerpt
            assert "1 texte(s) retenu(s) sur 1 en attente" in parse_entities(summary.text)[0]
            keyboard = json.loads(shown.reply_markup)["inline_keyboard"]
            thumbs_up = keyboard[0][0]["callback_data"]
            assert thumbs_up.endswith(":1") and keyboard[0][0]["text"].startswith("👍")

            before = len(fake.messages_to(MAINTAINER))
            fake.push_message(
                MAINTAINER, "/tester Le fichier ne contient aucune donnée biométrique"
            )
            fake.wait_for(lambda: len(fake.messages_to(MAINTAINER)) > before)
            tested = parse_entities(fake.messages_to(MAINTAINER)[before].text)[0]
            assert "Aucune correspondance." in tested and "ignoré : négation (aucun(e))" in tested

            fake.push_message(4242, "/revue")  # not a maintainer
            fake.wait_for(lambda: fake.messages_to(4242))
            assert "réservée aux mainteneurs" in fake.messages_to(4242)[0].text

            fake.push_callback(MAINTAINER, thumbs_up, shown.message_id)
            fake.wait_for(lambda: fake.calls_of("answerCallbackQuery"))
            assert "pertinent" in fake.calls_of("answerCallbackQuery")[0]["text"]
            labels = workdir / "review-labels.jsonl"
            wait_until(labels.exists, "the labels file", 10)
            (line,) = [json.loads(x) for x in labels.read_text().splitlines()]
            assert line["relevant"] is True and line["title"] == "Recrutement au laboratoire"
            assert line["labelled_by"] == MAINTAINER
        finally:
            process.terminate()
            process.wait(timeout=30)
    scored = run("backtest", "--input", "review-labels.jsonl")
    assert "labelled: 1 (ambiguous left out), recall: 0.000" in scored.err
    assert "miss: mairie:weak-1:biometrie: Recrutement au laboratoire" in scored.err
