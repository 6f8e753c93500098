"""Following a dossier: ``watcher run`` against a local Sénat site and the fake Bot API.

The Sénat site's textes feed publishes a bill that matches; its per-dossier feed
then gains the committee's text, a report and the adopted text, none with the
words: each arrives in every chat that had the first alert, as a reply to it.
"""

import json
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import PYTHON, REAL, needs_real, python_env, run, write_config
from tests.fake_telegram import TOKEN, FakeTelegram, parse_entities, running_fake_telegram
from tests.feed_server import FeedServer
from watcher.store import Store
from watcher.store.subscribers import Subscribers

ALICE, BOB, CAROL = 4001, 4002, 4003  # Carol subscribes to nothing
CHANNEL = "@veille"
DOSLEG = "/dossier-legislatif/rss/doslegpjl22-220.xml"

BILL = """<item><title>Projet de loi relatif aux jeux Olympiques et Paralympiques de 2024</title>
<pubDate>Thu, 22 Dec 2022 17:05:00 GMT</pubDate>
<description>Article 7 : à titre expérimental, les images collectées au moyen de systèmes de
vidéoprotection peuvent faire l'objet de traitements algorithmiques.</description>
<link>http://www.senat.fr/leg/pjl22-220.html</link><guid>http://www.senat.fr/leg/pjl22-220.html</guid>
<category>Projet de loi</category></item>"""
UNRELATED = """<item><title>Projet de loi de finances rectificative pour 2023</title>
<pubDate>Mon, 23 Jan 2023 10:00:00 GMT</pubDate><description>Crédits budgétaires.</description>
<link>http://www.senat.fr/leg/pjl22-300.html</link><guid>http://www.senat.fr/leg/pjl22-300.html</guid>
</item>"""
# The committee's text, also listed by the textes feed: one text, one message.
COMMITTEE_IN_TEXTES = """<item><title>Projet de loi relatif aux jeux Olympiques (texte de la
commission)</title><pubDate>Wed, 18 Jan 2023 10:00:00 GMT</pubDate><description>Texte de la
commission.</description><link>http://www.senat.fr/leg/pjl22-249.html</link>
<guid>http://www.senat.fr/leg/pjl22-249.html</guid></item>"""


def textes(*items: str) -> bytes:
    body = "".join(items)
    return (
        '<rss version="2.0"><channel><title>Sénat - derniers textes</title>'
        f"<link>http://www.senat.fr</link><description>d</description>{body}</channel></rss>"
    ).encode()


@dataclass(frozen=True)
class Step:
    title: str
    path: str
    day: str
    summary: str


BILL_STEP = Step(
    "Texte n° 220",
    "/leg/pjl22-220.html",
    "2022-12-21",
    "Première lecture - Sénat : Texte de Mme Élisabeth BORNE, Première ministre, déposé au Sénat "
    "le 22 décembre 2022",
)
LATER_STEPS = (
    Step(
        "Rapport n° 248",
        "/rap/l22-248/l22-248.html",
        "2023-01-17",
        "Première lecture - Sénat : Rapport de M. Agnès CANAYER, fait au nom de la commission des "
        "lois (18 janvier 2023)",
    ),
    Step(
        "Texte de la commission n° 249",
        "/leg/pjl22-249.html",
        "2023-01-18",
        "Première lecture - Sénat : Texte de la commission déposé le 18 janvier 2023",
    ),
    Step(
        "Amendements déposés sur le texte n° 249",
        "/amendements/2022-2023/249/accueil.html",
        "2023-01-24",
        "Première lecture - Sénat : Amendements déposés sur le texte n° 249",
    ),
    Step(
        "Compte rendu intégral de la séance du 31 janvier 2023",
        "/seances/s202301/s20230131/s20230131.html",
        "2023-01-30",
        "Première lecture - Sénat : Compte rendu intégral de la séance du 31 janvier 2023",
    ),
    Step(
        "Texte n° 50",
        "/leg/tas22-050.html",
        "2023-01-30",
        "Première lecture - Sénat : Texte modifié par le Sénat le 31 janvier 2023",
    ),
)
STAGES = (
    "Rapport (n° 248) · 18/01/2023",
    "Texte de la commission (n° 249) · 18/01/2023",
    "Amendements (texte n° 249) · 25/01/2023",
    "Compte rendu de la séance · 31/01/2023",
    "Adopté par le Sénat (n° 50) · 31/01/2023",
)


def dosleg(*steps: Step) -> bytes:
    """A per-dossier feed as the Sénat serves it: Atom 0.3 in ISO-8859-15, newest first."""
    entries = "".join(
        f"""<entry><title>{s.title}</title>
<link href="http://www.senat.fr{s.path}" rel="alternate" type="text/html"/>
<id>http://www.senat.fr{s.path}</id><updated>{s.day}T23:00:00Z</updated>
<published>{s.day}T23:00:00Z</published><category term=""/>
<summary>{s.summary}</summary></entry>"""
        for s in sorted(steps, key=lambda s: s.day, reverse=True)
    )
    return (
        '<?xml version="1.0" encoding="ISO-8859-15"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" version="0.3" xml:lang="fr-FR">'
        "<title>Sénat - Jeux Olympiques et Paralympiques 2024</title>"
        '<link href="http://www.senat.fr/rss/syndication.html"/>'
        "<id>http://www.senat.fr/dossierleg/pjl22-220.html</id>"
        f"{entries}</feed>"
    ).encode("iso-8859-15")


class Watcher:
    """A running ``watcher run`` and the fake Telegram it talks to."""

    def __init__(self, fake: FakeTelegram, process: subprocess.Popen[str], log: Path) -> None:
        self.fake, self.process, self.log = fake, process, log

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text(encoding="utf-8")

    def texts(self, chat: int | str) -> list[str]:
        return [parse_entities(m.text)[0] for m in self.fake.messages_to(chat)]

    def replied_to(self, chat: int | str) -> list[int | None]:
        """For each message sent to a chat, the message it answers (None: none)."""
        answers = []
        for call in self.fake.calls_of("sendMessage"):
            if str(call["chat_id"]) == str(chat):
                parameters = json.loads(call.get("reply_parameters") or "null")
                answers.append(parameters["message_id"] if parameters else None)
        return answers


def subscribe(db: Path, chats: list[int], *, topic: str | None = "biometrie") -> None:
    subscribers = Subscribers(Store(db))
    for chat in chats:
        subscribers.start(chat, "private", now=datetime.now(UTC))
        if topic:
            subscribers.subscribe(chat, topic)


@pytest.fixture
def senat_site(workdir: Path, feed_server: FeedServer) -> FeedServer:
    """A local Sénat site: a textes feed without the bill, and the bill's dossier feed."""
    # Never empty: an empty list is a source that drifts, and maintainers are told.
    feed_server.serve("/rss/textes.rss", textes(UNRELATED))
    feed_server.serve(DOSLEG, dosleg(BILL_STEP), content_type="application/atom+xml")
    write_config(
        workdir,
        [
            {
                "id": "senat-textes",
                "name": "Sénat",
                "kind": "senat",
                "url": feed_server.url("/rss/textes.rss"),
                "site": feed_server.url(""),
                "interval": "1s",
            }
        ],
        extra=f"maintainers: [{CAROL}]\nchannels:\n  - chat_id: '{CHANNEL}'\n",
    )
    subscribe(workdir / "watcher.db", [ALICE, BOB])
    subscribe(workdir / "watcher.db", [CAROL], topic=None)
    return feed_server


@pytest.fixture
def watcher(workdir: Path, senat_site: FeedServer) -> Iterator[Watcher]:
    with running_fake_telegram() as (fake, api_url):
        env = python_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url)
        log = workdir / "watcher.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [PYTHON, "-m", "watcher", "-v", "run"],
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=out,
                text=True,
            )
        running = Watcher(fake, process, log)
        try:
            fake.wait_for(lambda: fake.calls_of("getUpdates"))
            fake.wait_for(lambda: senat_site.hits("/rss/textes.rss"))  # the backlog is noted
            yield running
        finally:
            err = running.stop()
            print("\n".join(line for line in err.splitlines() if " DEBUG " not in line)[-6000:])


def test_every_step_of_a_followed_dossier_is_a_reply_to_the_first_alert(
    watcher: Watcher, senat_site: FeedServer, workdir: Path
) -> None:
    fake = watcher.fake
    senat_site.serve("/rss/textes.rss", textes(BILL))
    fake.wait_for(lambda: all(fake.messages_to(c) for c in (ALICE, BOB, CHANNEL)))
    first = {chat: fake.messages_to(chat)[0].message_id for chat in (ALICE, BOB, CHANNEL)}
    assert "jeux Olympiques" in watcher.texts(ALICE)[0]
    keyboard = json.loads(fake.messages_to(ALICE)[0].reply_markup or "{}")["inline_keyboard"]
    assert keyboard == [
        [{"text": "🔕 Ne plus suivre", "callback_data": "unfollow:senat:pjl22-220"}]
    ]

    # The dossier's own feed is read once to note the steps already taken...
    senat_site.requests.clear()
    fake.wait_for(lambda: senat_site.hits(DOSLEG))
    # ...then it gains three steps, none of them with the words, and the textes feed
    # lists the committee's text too, and an unrelated bill.
    senat_site.serve(DOSLEG, dosleg(BILL_STEP, *LATER_STEPS), content_type="application/atom+xml")
    senat_site.serve("/rss/textes.rss", textes(BILL, COMMITTEE_IN_TEXTES, UNRELATED))
    # Five steps on one day, more than a burst: each its own message, in the thread.
    fake.wait_for(
        lambda: all(len(fake.messages_to(c)) == 6 for c in (ALICE, BOB, CHANNEL)), timeout=40
    )
    # Polls go on: nothing is sent twice.
    hits = len(senat_site.hits(DOSLEG))
    fake.wait_for(lambda: len(senat_site.hits(DOSLEG)) >= hits + 2)
    fake.wait_for(lambda: len(senat_site.hits("/rss/textes.rss")) >= 3)

    for chat in (ALICE, BOB, CHANNEL):
        texts = watcher.texts(chat)
        assert len(texts) == 6, texts
        for text, stage in zip(texts[1:], STAGES, strict=True):
            assert f"🔁 Suite du dossier : {stage}" in text
        assert watcher.replied_to(chat) == [None] + [first[chat]] * 5
    assert not any("finances" in text for text in watcher.texts(ALICE))
    # She never had the first alert (a maintainer, she may get the weekly report).
    assert not any(
        "Olympiques" in m.text or "Suite du dossier" in m.text for m in fake.messages_to(CAROL)
    )

    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT stage FROM dossiers").fetchall() == [("Adopté par le Sénat (n° 50)",)]


PPL18_260_STAGES = [
    "🔁 Suite du dossier : Travaux de la commission · 29/05/2019",
    "🔁 Suite du dossier : Rapport (n° 537) · 29/05/2019",
    "🔁 Suite du dossier : Texte de la commission (n° 538) · 29/05/2019",
    "🔁 Suite du dossier : Amendements (texte n° 260) · 06/06/2019",
]


@needs_real
@pytest.mark.parametrize(
    ("signet", "stages"),
    [("ppl18-260", PPL18_260_STAGES), ("pjl18-404", None)],
    ids=["ppl18-260", "pjl18-404"],
)
def test_a_real_dossier_replayed_step_by_step(
    workdir: Path, feed_server: FeedServer, signet: str, stages: list[str] | None
) -> None:
    """A real Sénat per-dossier feed, its steps revealed one by one, oldest first: the
    bill matches, every later step follows it, once each, and nothing else is said."""
    real = next((REAL / "senat").glob(f"dosleg_rss_{signet}_*.xml")).read_bytes()
    head, _, rest = real.partition(b"<entry>")
    entries = [b"<entry>" + part for part in rest.split(b"<entry>")]
    entries[-1], tail = entries[-1].split(b"</feed>")[0], b"</feed>"
    entries.reverse()  # the feed is newest first
    # The steps up to the bill's arrival at the Sénat (AN steps first, for a government
    # bill) are the past when it is matched; the rest come one poll at a time.
    known = next(n for n, e in enumerate(entries) if f"/leg/{signet}.html".encode() in e) + 1
    # The bill's own summary says nothing of our topic: a source that matches it.
    bill_item = textes(
        "<item><title>Texte de loi : compteurs à reconnaissance faciale</title>"
        f"<link>http://www.senat.fr/leg/{signet}.html</link>"
        f"<guid>http://www.senat.fr/leg/{signet}.html</guid></item>"
    )
    feed_server.serve("/rss/textes.rss", textes())
    path = f"/dossier-legislatif/rss/dosleg{signet}.xml"
    feed_server.serve(path, head + b"".join(reversed(entries[:known])) + tail)
    write_config(
        workdir,
        [
            {
                "id": "senat-textes",
                "name": "Sénat",
                "kind": "senat",
                "url": feed_server.url("/rss/textes.rss"),
                "site": feed_server.url(""),
            }
        ],
    )
    assert run("poll").code == 0  # the backlog
    feed_server.serve("/rss/textes.rss", bill_item)
    first = run("poll")
    assert first.code == 0, first.err
    assert first.out.count("compteurs à reconnaissance faciale") == 1
    outputs = []
    for count in range(known + 1, len(entries) + 1):
        feed_server.serve(path, head + b"".join(reversed(entries[:count])) + tail)
        outputs.append(run("poll").out)
    outputs.append(run("poll").out)  # nothing new: nothing said

    follow_ups = [
        line for out in outputs for line in out.splitlines() if "Suite du dossier" in line
    ]
    # One follow-up per step revealed, in order, each once.
    assert [sum("Suite du dossier" in line for line in out.splitlines()) for out in outputs] == [
        1
    ] * (len(entries) - known) + [0]
    if stages is not None:
        assert follow_ups == stages
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT item_id) FROM alerts").fetchone() == (
        len(entries) - known + 1,
        len(entries) - known + 1,
    )


def say(watcher: Watcher, chat: int, text: str) -> str:
    """Send a message as a user; return the bot's reply as the user reads it."""
    before = len(watcher.fake.messages_to(chat))
    watcher.fake.push_message(chat, text)
    watcher.fake.wait_for(lambda: len(watcher.fake.messages_to(chat)) > before)
    return watcher.texts(chat)[before]


def test_buttons_suivre_dossiers_and_oublier(
    watcher: Watcher, senat_site: FeedServer, workdir: Path
) -> None:
    fake = watcher.fake
    senat_site.serve("/rss/textes.rss", textes(BILL))
    fake.wait_for(lambda: fake.messages_to(ALICE) and fake.messages_to(BOB))
    senat_site.requests.clear()
    fake.wait_for(lambda: senat_site.hits(DOSLEG))  # the steps already taken are noted

    # Alice stops following from the alert's button; the button turns into "Suivre".
    fake.push_callback(ALICE, "unfollow:senat:pjl22-220", fake.messages_to(ALICE)[0].message_id)
    fake.wait_for(lambda: fake.calls_of("editMessageReplyMarkup"))
    assert "ne suivez plus" in fake.calls_of("answerCallbackQuery")[0]["text"]
    markup = fake.calls_of("editMessageReplyMarkup")[0]["reply_markup"]
    assert "follow:senat:pjl22-220" in markup and "unfollow:" not in markup

    # Carol had no alert: she follows by hand, after a wrong try.
    assert "Usage : /suivre" in say(watcher, CAROL, "/suivre n'importe quoi")
    assert "Usage : /suivre" in say(watcher, CAROL, "/suivre")
    answer = say(watcher, CAROL, "/suivre https://www.senat.fr/dossier-legislatif/pjl22-220.html")
    assert "Vous suivez le dossier Projet de loi relatif aux jeux Olympiques" in answer
    assert "/dossiers" in answer

    senat_site.serve(DOSLEG, dosleg(BILL_STEP, LATER_STEPS[0]), content_type="application/atom+xml")
    fake.wait_for(lambda: len(fake.messages_to(BOB)) == 2 and fake.messages_to(CAROL)[3:])
    assert "🔁 Suite du dossier : Rapport (n° 248)" in watcher.texts(CAROL)[3]
    assert watcher.replied_to(CAROL)[3] is None  # she had no first alert to answer
    assert len(fake.messages_to(ALICE)) == 1

    listing = say(watcher, BOB, "/dossiers")
    assert "Projet de loi relatif aux jeux Olympiques" in listing
    assert "Dernière étape : Rapport (n° 248), 18/01/2023" in listing
    # Its steps in order, each with its date.
    assert listing.index("· 22/12/2022 Déposé au Sénat (n° 220)") < listing.index(
        "· 18/01/2023 Rapport (n° 248)"
    )
    assert "Vous ne suivez aucun dossier" in say(watcher, ALICE, "/dossiers")

    assert "réservée aux mainteneurs" in say(watcher, BOB, "/oublier senat:pjl22-220")
    assert "Usage : /oublier" in say(watcher, CAROL, "/oublier")
    assert "n'est plus suivi, pour personne" in say(watcher, CAROL, "/oublier pjl22-220")

    counts = {chat: len(fake.messages_to(chat)) for chat in (ALICE, BOB, CAROL)}
    hits = len(senat_site.hits(DOSLEG))
    senat_site.serve(DOSLEG, dosleg(BILL_STEP, *LATER_STEPS), content_type="application/atom+xml")
    textes_hits = len(senat_site.hits("/rss/textes.rss"))
    fake.wait_for(lambda: len(senat_site.hits("/rss/textes.rss")) >= textes_hits + 3)
    assert len(senat_site.hits(DOSLEG)) <= hits + 1  # at most a read already under way
    assert {chat: len(fake.messages_to(chat)) for chat in (ALICE, BOB, CAROL)} == counts

    result = run("dossiers", "--db", str(workdir / "watcher.db"))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == [
        "dossier",
        "status",
        "stage",
        "last",
        "step",
        "next",
        "date",
        "following",
    ]
    row = lines[1].split()
    assert row[:2] == ["senat:pjl22-220", "stopped"]
    assert f"{BOB}, @veille, {CAROL}" in lines[1]
    assert str(ALICE) not in lines[1]
    assert lines[2].strip() == "Projet de loi relatif aux jeux Olympiques et Paralympiques de 2024"


def test_watcher_dossiers_with_none_followed(workdir: Path) -> None:
    write_config(workdir, [{"id": "s", "name": "S", "url": "https://www.senat.fr/rss/textes.rss"}])
    missing = run("dossiers")
    assert missing.code == 1
    assert "no database here" in missing.err
    Store(workdir / "watcher.db")
    result = run("dossiers")
    assert result.code == 0, result.err
    assert "no dossier followed yet" in result.out


def test_the_same_text_through_two_sources_is_one_alert(
    workdir: Path, feed_server: FeedServer
) -> None:
    """The Sénat's textes feed and its Akoma Ntoso index both publish ppl25-170."""
    from tests.test_source_parliament import AKN_VSA, depots

    base = feed_server.url("")
    rss = feed_server.serve(
        "/rss/textes.rss",
        textes(
            "<item><title>Proposition de loi relative à la sécurité dans les transports : "
            "reconnaissance faciale</title><pubDate>Mon, 01 Dec 2025 10:00:00 GMT</pubDate>"
            "<link>http://www.senat.fr/leg/ppl25-170.html</link>"
            "<guid>http://www.senat.fr/leg/ppl25-170.html</guid></item>"
        ),
    )
    index = feed_server.serve("/akomantoso/depots.xml", depots("ppl25-170").replace("{base}", base))
    feed_server.serve("/akomantoso/ppl25-170.akn.xml", AKN_VSA, content_type="application/xml")
    write_config(
        workdir,
        [
            {"id": "rss", "name": "Sénat RSS", "kind": "senat", "url": rss, "backfill": "true"},
            {"id": "akn", "name": "Sénat AKN", "kind": "senat", "url": index, "backfill": "true"},
        ],
    )

    for _ in range(2):
        result = run("poll")
        assert result.code == 0, result.err

    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 1
    (item_id, source) = db.execute("SELECT id, source_id FROM items").fetchone()
    other = "akn" if source == "rss" else "rss"
    # The second sighting is kept: its source, key, link and date.
    assert db.execute("SELECT item_id, source_id, key, url FROM item_links").fetchall() == [
        (item_id, other, "ppl25-170", "https://www.senat.fr/leg/ppl25-170.html")
    ]


@needs_real
def test_an_assemblee_dossier_is_followed_through_its_open_data_document(
    workdir: Path, feed_server: FeedServer
) -> None:
    """A real AN dossier document (DLR5L15N36460): a new act is a follow-up."""
    real = json.loads((REAL / "assemblee" / "opendata_dossier-DLR5L15N36460.json").read_bytes())
    acts = real["dossierParlementaire"]["actesLegislatifs"]["acteLegislatif"]
    path = "/dyn/opendata/DLR5L15N36460.json"
    earlier = {**real, "dossierParlementaire": {**real["dossierParlementaire"]}}
    earlier["dossierParlementaire"]["actesLegislatifs"] = {"acteLegislatif": acts[:1]}
    feed_server.serve(path, json.dumps(earlier), content_type="application/json")
    feed_server.serve("/dyn/opendata/list-publication/ignored", "")
    write_config(
        workdir,
        [
            {
                "id": "an",
                "name": "Assemblée nationale",
                "kind": "assemblee",
                "url": feed_server.url("/dyn/opendata/list-publication"),
            }
        ],
    )
    Store(workdir / "watcher.db").dossiers.follow(
        "an:DLR5L15N36460",
        source_id="an",
        target="console",
        destination="console",
        how="suivre",
        now=datetime.now(UTC),
    )
    assert run("poll").code == 0  # the acts already taken are noted
    assert feed_server.hits(path)
    feed_server.serve(path, json.dumps(real), content_type="application/json")

    result = run("poll")

    assert result.code == 0, result.err
    follow_ups = [
        line.split(" · ")[0] for line in result.out.splitlines() if "Suite du dossier" in line
    ]
    assert not any("1er dépôt d'une initiative" in line for line in follow_ups)
    assert "🔁 Suite du dossier : Dépôt d'une initiative en navette" in follow_ups
    assert "🔁 Suite du dossier : Décision de la CMP" in follow_ups
    assert run("poll").out == ""  # nothing twice


def jo_text(text_id: str, nature: str, nor: str, title: str, visas: str, article: str) -> bytes:
    """A JORFSIMPLE text as DILA's archives hold it."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<TEXTE><ID>{text_id}</ID><ORIGINE>JORF</ORIGINE><NATURE>{nature}</NATURE><NOR>{nor}</NOR>
<DATE_PUBLI>2026-06-30</DATE_PUBLI><TITRE>{title}</TITRE><TITREFULL>{title}</TITREFULL>
<MINISTERE>Ministère de l'intérieur</MINISTERE><NOTICE><CONTENU/></NOTICE>
<VISAS><CONTENU><p>{visas}</p></CONTENU></VISAS>
<STRUCT><ARTICLE><ID>{text_id}1</ID><BLOC_TEXTUEL><CONTENU><p>{article}</p></CONTENU>
</BLOC_TEXTUEL></ARTICLE></STRUCT></TEXTE>""".encode()


OLYMPICS_LAW = jo_text(
    "JORFTEXT000047561974",
    "LOI",
    "SPOX2229503L",
    "LOI n° 2023-380 du 19 mai 2023 relative aux jeux Olympiques et Paralympiques de 2024",
    "L'Assemblée nationale et le Sénat ont adopté,",
    "À titre expérimental, les images collectées au moyen de systèmes de vidéoprotection "
    "peuvent faire l'objet de traitements algorithmiques.",
)
# The Conseil constitutionnel's decision names the law by its subject, not its number
# (it precedes promulgation): JORF of 20 May 2023, "Décision n° 2023-850 DC du 17 mai 2023".
OLYMPICS_DECISION = jo_text(
    "JORFTEXT000047561900",
    "DECISION",
    "CSCX2313593S",
    "Décision n° 2023-850 DC du 17 mai 2023",
    "Le Conseil constitutionnel a été saisi de la loi relative aux jeux Olympiques et "
    "Paralympiques de 2024 et portant diverses autres dispositions",
    "La loi est déclarée partiellement conforme à la Constitution.",
)
OLYMPICS_DECREE = jo_text(
    "JORFTEXT000047992482",
    "DECRET",
    "IOMD2318990D",
    "Décret n° 2023-828 du 28 août 2023 relatif aux modalités de mise en œuvre de l'article "
    "10 de la loi n° 2023-380 du 19 mai 2023",
    "Vu la loi n° 2023-380 du 19 mai 2023 relative aux jeux Olympiques, notamment son article 10",
    "Le présent décret précise les conditions de l'expérimentation.",
)


def publish_law_then(
    workdir: Path, feed_server: FeedServer, later: dict[str, bytes], settings: str = ""
) -> tuple[str, str]:
    """The JO publishes the Olympics law (it matches), then ``later``: each poll's output."""
    from tests.test_source_dila import NEW, NEWER, OLD, archive, listing

    base = "/OPENDATA/JORFSIMPLE/"
    feed_server.serve(base, listing(OLD), content_type="text/html")
    write_config(
        workdir,
        [{"id": "jo", "name": "Journal officiel", "kind": "dila", "url": feed_server.url(base)}],
        extra=settings,
    )
    assert run("poll").code == 0  # where the JO stands
    feed_server.serve(base, listing(OLD, NEW), content_type="text/html")
    feed_server.serve(base + NEW, archive({"a/JORFTEXT000047561974.xml": OLYMPICS_LAW}))
    first = run("poll")
    assert first.code == 0, first.err
    feed_server.serve(base, listing(OLD, NEW, NEWER), content_type="text/html")
    feed_server.serve(base + NEWER, archive(later))
    second = run("poll")
    assert second.code == 0, second.err
    return first.out, second.out


def test_a_followed_law_gets_its_decision_and_the_decrees_that_cite_it(
    workdir: Path, feed_server: FeedServer
) -> None:
    """The law matches; its decision and its decree say none of the words: they are steps."""
    unrelated = jo_text(
        "JORFTEXT000047992999",
        "ARRETE",
        "AGRX2300001A",
        "Arrêté du 28 août 2023 relatif aux semences",
        "Vu le code rural",
        "Les semences sont contrôlées.",
    )
    first, second = publish_law_then(
        workdir,
        feed_server,
        {
            "b/JORFTEXT000047561900.xml": OLYMPICS_DECISION,
            "b/JORFTEXT000047992482.xml": OLYMPICS_DECREE,
            "b/JORFTEXT000047992999.xml": unrelated,
        },
    )

    assert "LOI n° 2023-380" in first
    follow_ups = [line.split(" · ")[0] for line in second.splitlines() if "Suite" in line]
    assert sorted(follow_ups) == [
        "🔁 Suite du dossier : Décision du Conseil constitutionnel n° 2023-850 DC",
        "🔁 Suite du dossier : Décret d'application n° 2023-828",
    ]
    assert "semences" not in second
    assert run("poll").out == ""  # nothing twice
    db = sqlite3.connect(workdir / "watcher.db")
    # One dossier: the decision is a step of the law's, not a dossier of its own.
    assert db.execute("SELECT dossier, law FROM dossiers").fetchall() == [
        ("jorf:JORFTEXT000047561974", "2023-380")
    ]
    listing = run("dossiers").out
    assert "Promulguée : loi n° 2023-380" in listing
    assert "Décision du Conseil constitutionnel n° 2023-850 DC" in listing


def test_a_dossier_ends_once_its_law_had_time_for_its_decrees(
    workdir: Path, feed_server: FeedServer
) -> None:
    """After ``settings.follow_after_law``, a decree citing the law is no longer a step."""
    # The law was published on 30/06/2026; 30 days later its following ended.
    _, second = publish_law_then(
        workdir,
        feed_server,
        {"b/JORFTEXT000047992482.xml": OLYMPICS_DECREE},
        settings="settings:\n  follow_after_law: 30d\n",
    )

    assert "Suite du dossier" not in second
    listing = run("dossiers").out
    assert "jorf:JORFTEXT000047561974" in listing and " ended " in listing
    assert "ended: law 2023-380 published" in listing


def test_a_failing_dossier_stream_is_recorded_and_shown(
    workdir: Path, feed_server: FeedServer
) -> None:
    feed_server.serve("/rss/textes.rss", textes())
    feed_server.serve(DOSLEG, "oops", status=503)
    write_config(
        workdir,
        [
            {
                "id": "senat-textes",
                "name": "Sénat",
                "kind": "senat",
                "url": feed_server.url("/rss/textes.rss"),
                "site": feed_server.url(""),
            }
        ],
    )
    Store(workdir / "watcher.db").dossiers.follow(
        "senat:pjl22-220",
        source_id="senat-textes",
        target="console",
        destination="console",
        how="suivre",
        now=datetime.now(UTC),
    )

    result = run("poll")

    assert result.code == 0, result.err
    assert "503" in result.err
    listing = run("dossiers").out
    assert "senat:pjl22-220" in listing and "followed" in listing
    assert "stream error: HTTP 503" in listing


def test_following_starts_from_another_sources_sighting_matched_in_its_text(
    workdir: Path, feed_server: FeedServer
) -> None:
    """The textes feed lists the bill without the words; a second source shows the same text
    (same link) with them: that alert, a sighting, makes the dossier followed."""
    bill = """<item><title>Projet de loi relatif aux jeux Olympiques et Paralympiques de
    2024</title><pubDate>Thu, 22 Dec 2022 17:05:00 GMT</pubDate><description>Texte n° 220
    (2022-2023) déposé au Sénat le 22 décembre 2022</description>
    <link>http://www.senat.fr/leg/pjl22-220.html</link>
    <guid>http://www.senat.fr/leg/pjl22-220.html</guid></item>"""
    # The same text, as a feed that quotes its article 7 (matched in its text, not its title).
    quoted = BILL.replace("<title>", "<title>JOP 2024 : ").replace("17:05", "18:05")
    feed_server.serve("/rss/textes.rss", textes())
    feed_server.serve("/rss/presse.rss", textes())
    feed_server.serve(DOSLEG, dosleg(BILL_STEP), content_type="application/atom+xml")
    site = feed_server.url("")
    write_config(
        workdir,
        [
            {
                "id": "senat-textes",
                "name": "Sénat",
                "kind": "senat",
                "url": feed_server.url("/rss/textes.rss"),
                "site": site,
            },
            {
                "id": "presse",
                "name": "Presse",
                "kind": "rss",
                "url": feed_server.url("/rss/presse.rss"),
            },
        ],
    )
    assert run("poll").code == 0  # the backlog
    feed_server.serve("/rss/textes.rss", textes(bill))
    assert run("poll").out == ""  # no words: stored, not alerted
    feed_server.serve("/rss/presse.rss", textes(quoted))
    sighted = run("poll")
    assert sighted.code == 0, sighted.err
    assert sighted.out.count("Mots-clés") == 1
    assert run("poll").out == ""  # the stream's first read notes the steps taken

    feed_server.serve(
        DOSLEG, dosleg(BILL_STEP, *LATER_STEPS[:2]), content_type="application/atom+xml"
    )
    later = run("poll")

    assert later.code == 0, later.err
    assert [line.split(" · ")[0] for line in later.out.splitlines() if "Suite" in line] == [
        "🔁 Suite du dossier : Rapport (n° 248)",
        "🔁 Suite du dossier : Texte de la commission (n° 249)",
    ]


def test_a_step_published_before_the_dossier_feed_could_be_read_is_still_told(
    workdir: Path, feed_server: FeedServer
) -> None:
    """The dossier feed fails at first; when it answers, the steps taken since the dossier
    was followed are told, the older ones only noted."""
    feed_server.serve("/rss/textes.rss", textes())
    feed_server.serve(DOSLEG, "busy", status=503)
    write_config(
        workdir,
        [
            {
                "id": "senat-textes",
                "name": "Sénat",
                "kind": "senat",
                "url": feed_server.url("/rss/textes.rss"),
                "site": feed_server.url(""),
            }
        ],
    )
    assert run("poll").code == 0  # the backlog
    feed_server.serve("/rss/textes.rss", textes(BILL))
    first = run("poll")
    assert first.out.count("Mots-clés") == 1  # the alert; the dossier's feed failed
    today = datetime.now(UTC).date().isoformat()
    report = Step(
        "Rapport n° 248", "/rap/l22-248/l22-248.html", today, "Première lecture - Sénat : Rapport"
    )
    feed_server.serve(DOSLEG, dosleg(BILL_STEP, report), content_type="application/atom+xml")

    later = run("poll")

    assert later.code == 0, later.err
    assert [line.split(" · ")[0] for line in later.out.splitlines() if "Suite" in line] == [
        "🔁 Suite du dossier : Rapport (n° 248)"
    ]
    assert run("poll").out == ""
