"""Follow buttons that hold, through ``watcher run``, a local Sénat site and the fake
Bot API: in a group and in a channel only administrators follow or stop, twice is
one follower, "Ne plus suivre" stops the steps, /dossiers stops each, /suivre takes
only a dossier that exists."""

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.feed_server import FeedServer
from tests.test_following import (
    BILL,
    BILL_STEP,
    CAROL,
    CHANNEL,
    DOSLEG,
    LATER_STEPS,
    Watcher,
    dosleg,
    say,
    senat_site,
    textes,
    watcher,
)
from watcher.store import Store
from watcher.store.subscribers import Subscribers

__all__ = ["senat_site", "watcher"]  # fixtures used here
GROUP, ADMIN, MEMBER = -100555, 601, 602
CHANNEL_ID = -1001999  # @veille's numeric id, as Telegram shows it in a button press
DOSSIER = "senat:pjl22-220"


def followers(workdir: Path) -> list[tuple[str, int]]:
    db = sqlite3.connect(workdir / "watcher.db")
    rows = db.execute(
        "SELECT destination, active FROM dossier_followers WHERE dossier = ? ORDER BY 1",
        [DOSSIER],
    ).fetchall()
    db.close()
    return [(str(d), int(a)) for d, a in rows]


def press(w: Watcher, chat: int, data: str, user: int, chat_type: str, **options: str) -> str:
    before = len(w.fake.calls_of("answerCallbackQuery"))
    message = w.fake.messages_to(CHANNEL if chat == CHANNEL_ID else chat)[0].message_id
    w.fake.push_callback(chat, data, message, user_id=user, chat_type=chat_type, **options)
    w.fake.wait_for(lambda: len(w.fake.calls_of("answerCallbackQuery")) > before)
    return str(w.fake.calls_of("answerCallbackQuery")[before].get("text", ""))


def next_step(site: FeedServer, w: Watcher, steps: int) -> None:
    """Publish one more step and wait until Bob (who follows) has it."""
    site.serve(DOSLEG, dosleg(BILL_STEP, *LATER_STEPS[:steps]), content_type="application/atom+xml")
    w.fake.wait_for(lambda: len(w.fake.messages_to(4002)) == 1 + steps)


def group_subscribed(workdir: Path) -> None:
    subscribers = Subscribers(Store(workdir / "watcher.db"))
    subscribers.start(GROUP, "supergroup", now=datetime.now(UTC))
    subscribers.subscribe(GROUP, "biometrie")


def test_in_a_group_and_a_channel_only_admins_follow_and_twice_is_once(
    senat_site: FeedServer, workdir: Path, watcher: Watcher
) -> None:
    group_subscribed(workdir)
    fake = watcher.fake
    fake.admins[GROUP] = {ADMIN}
    fake.admins[CHANNEL_ID] = {ADMIN}
    senat_site.serve("/rss/textes.rss", textes(BILL))
    fake.wait_for(lambda: fake.messages_to(GROUP) and fake.messages_to(CHANNEL))
    assert (CHANNEL, 1) in followers(workdir) and (str(GROUP), 1) in followers(workdir)

    # Members and readers cannot change what the group or the channel follows.
    for chat, kind in ((GROUP, "supergroup"), (CHANNEL_ID, "channel")):
        answer = press(watcher, chat, f"unfollow:{DOSSIER}", MEMBER, kind, username="veille")
        assert answer == "Réservé aux administrateurs de ce chat."
    assert (CHANNEL, 1) in followers(workdir) and (str(GROUP), 1) in followers(workdir)

    # The channel's admin follows twice: still one follower, under the name alerts go to.
    for _ in range(2):
        press(watcher, CHANNEL_ID, f"follow:{DOSSIER}", ADMIN, "channel", username="veille")
    assert [f for f in followers(workdir) if f[0] in (CHANNEL, str(CHANNEL_ID))] == [(CHANNEL, 1)]

    # "Ne plus suivre" stops: the next step reaches neither the group nor the channel.
    assert press(watcher, GROUP, f"unfollow:{DOSSIER}", ADMIN, "supergroup") == (
        "Vous ne suivez plus ce dossier."
    )
    press(watcher, CHANNEL_ID, f"unfollow:{DOSSIER}", ADMIN, "channel", username="veille")
    before = {chat: len(fake.messages_to(chat)) for chat in (GROUP, CHANNEL)}
    next_step(senat_site, watcher, 1)
    assert {chat: len(fake.messages_to(chat)) for chat in (GROUP, CHANNEL)} == before

    # Followed again, the channel gets the next step once.
    press(watcher, CHANNEL_ID, f"follow:{DOSSIER}", ADMIN, "channel", username="veille")
    next_step(senat_site, watcher, 2)
    fake.wait_for(lambda: len(fake.messages_to(CHANNEL)) == before[CHANNEL] + 1)
    assert "Texte de la commission (n° 249)" in watcher.texts(CHANNEL)[-1]
    assert len(fake.messages_to(GROUP)) == before[GROUP]


def test_dossiers_stops_each_and_suivre_takes_only_what_exists(
    senat_site: FeedServer, workdir: Path, watcher: Watcher
) -> None:
    fake = watcher.fake
    senat_site.serve("/rss/textes.rss", textes(BILL))
    fake.wait_for(lambda: fake.messages_to(4001))

    missing = say(watcher, CAROL, "/suivre pjl99-999")
    assert missing.startswith("Je ne trouve pas le dossier pjl99-999 : le site du Sénat")
    assert say(watcher, CAROL, "/dossiers").startswith("Vous ne suivez aucun dossier")
    other = "/dossier-legislatif/rss/doslegppl23-100.xml"
    senat_site.serve(other, dosleg(BILL_STEP), content_type="application/atom+xml")
    followed = say(watcher, CAROL, "/suivre ppl23-100")  # titled as its feed is
    assert "Vous suivez le dossier Jeux Olympiques et Paralympiques 2024 (senat:ppl23-100)" in (
        followed
    )
    assert "Vous suivez le dossier" in say(watcher, CAROL, "/suivre pjl22-220")

    listing = say(watcher, CAROL, "/dossiers")
    assert "1. Projet de loi relatif aux jeux Olympiques" in listing
    assert "2. Jeux Olympiques et Paralympiques 2024 (senat:ppl23-100)" in listing

    message = fake.messages_to(CAROL)[-1]
    buttons = json.loads(message.reply_markup)["inline_keyboard"]
    assert buttons == [
        [{"text": "🔕 Ne plus suivre le n° 1", "callback_data": f"dstop:{DOSSIER}"}],
        [{"text": "🔕 Ne plus suivre le n° 2", "callback_data": "dstop:senat:ppl23-100"}],
    ]
    fake.push_callback(CAROL, f"dstop:{DOSSIER}", message.message_id)
    fake.wait_for(lambda: fake.calls_of("editMessageText"))
    redrawn = fake.calls_of("editMessageText")[-1]
    assert "jeux Olympiques" not in redrawn["text"] and "ppl23-100" in redrawn["text"]
    assert (str(CAROL), 0) in followers(workdir)
    assert "1. Jeux Olympiques et Paralympiques 2024" in say(watcher, CAROL, "/dossiers")


MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"


@pytest.fixture
def carol_digest(senat_site: FeedServer, workdir: Path) -> Subscribers:
    """Carol subscribes, in daily digest mode, before watcher starts."""
    subscribers = Subscribers(Store(workdir / "watcher.db"))
    subscribers.subscribe(CAROL, "biometrie")
    subscribers.set_mode(CAROL, "digest")
    return subscribers


def test_a_digest_keeps_the_sitting_date_the_words_and_a_follow_button(
    carol_digest: Subscribers, senat_site: FeedServer, workdir: Path, watcher: Watcher
) -> None:
    fake = watcher.fake
    sitting = datetime.now(UTC) + timedelta(days=10)
    day = f"{sitting.day} {MONTHS.split()[sitting.month - 1]} {sitting.year}"
    dated = BILL.replace(
        "traitements algorithmiques.</description>",
        f"traitements algorithmiques. Examen en séance publique le {day}.</description>",
    )
    senat_site.serve("/rss/textes.rss", textes(dated))
    fake.wait_for(lambda: fake.messages_to(4001))  # alerted: Carol's waits for her digest
    carol_digest.set_digest_time(CAROL, "00:00")  # an hour past: today's digest goes now
    fake.wait_for(lambda: any("sélection du jour" in t for t in watcher.texts(CAROL)))

    digest = next(t for t in watcher.texts(CAROL) if "sélection du jour" in t)
    line = next(line for line in digest.splitlines() if line.startswith("• 1. "))
    assert line.startswith(
        f"• 1. ⏰ Examen en séance publique prévu le {sitting:%d/%m/%Y}, dans 10 jours — "
    )
    assert "Projet de loi relatif aux jeux Olympiques" in line
    assert "Mots trouvés : " in digest and "vidéoprotection" in digest.split("Mots trouvés : ")[1]
    message = next(m for m in fake.messages_to(CAROL) if "sélection" in m.text)
    assert '<a href="' in message.text and 'pjl22-220.html">Projet de loi' in message.text
    buttons = json.loads(message.reply_markup)["inline_keyboard"]
    assert buttons == [[{"text": "🔕 Ne plus suivre n° 1", "callback_data": f"unfollow:{DOSSIER}"}]]

    fake.push_callback(CAROL, f"unfollow:{DOSSIER}", message.message_id)
    fake.wait_for(lambda: fake.calls_of("editMessageReplyMarkup"))
    edited = json.loads(fake.calls_of("editMessageReplyMarkup")[-1]["reply_markup"])
    assert edited["inline_keyboard"][0][0]["callback_data"] == f"follow:{DOSSIER}"
    assert (str(CAROL), 0) in followers(workdir)
