"""How alerts read: one alert, a grouped burst, a digest (pure rendering, fixed clock)."""

from datetime import UTC, datetime

import pytest

from tests.fake_telegram import parse_entities
from watcher.delivery.render import (
    AlertView,
    format_date,
    render_burst,
    render_digest,
    render_html,
    render_text,
)
from watcher.following import stage_label
from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.matching.excerpt import Excerpt

NOW = datetime(2026, 7, 13, 9, 0, tzinfo=UTC)
TITLE = "Proposition de loi visant à interdire la reconnaissance faciale"


def view(
    title: str = TITLE,
    *,
    excerpt: Excerpt | None = None,
    topic: str = "biometrie",
    number: int = 0,
    **fields: object,
) -> AlertView:
    if excerpt is None:
        text = "L'article 2 interdit la reconnaissance faciale en temps réel."
        start = text.index("reconnaissance")
        excerpt = Excerpt(text, start, start + len("reconnaissance faciale"))
    item = Item(
        "senat",
        f"k{number}",
        title,
        f"https://www.senat.fr/leg/ppl{number}.html",
        datetime(2026, 7, 12, 23, 30, tzinfo=UTC),
        kind="Proposition de loi",
    )
    match = TopicMatch(
        topic, topic, ("reconnaissance faciale",), excerpt, ("reconnaissance faciale",)
    )
    labels = {"biometrie": "Surveillance biométrique", "vsa": "Vidéosurveillance algorithmique"}
    return AlertView("Sénat", item, (match,), labels, now=NOW, **fields)  # type: ignore[arg-type]


def plain(message: str) -> str:
    text, error = parse_entities(message)
    assert error is None, error
    assert len(text) <= 4096
    return text


def test_dates_are_shown_in_the_configured_zone() -> None:
    moment = datetime(2026, 7, 12, 23, 30, tzinfo=UTC)  # already the 13th in Paris
    assert format_date(moment, "Europe/Paris") == "13/07/2026"
    assert format_date(moment, "UTC") == "12/07/2026"
    assert format_date(None) == ""


@pytest.mark.parametrize(
    ("event_at", "line"),
    [
        (datetime(2026, 7, 19, 14, 0, tzinfo=UTC), "⏰ Vote prévu le 19/07/2026, dans 6 jours"),
        (datetime(2026, 7, 14, 8, 0, tzinfo=UTC), "⏰ Vote prévu le 14/07/2026, demain"),
        (datetime(2026, 7, 13, 20, 0, tzinfo=UTC), "⏰ Vote prévu le 13/07/2026, aujourd'hui"),
    ],
    ids=["in-6-days", "tomorrow", "today"],
)
def test_an_upcoming_vote_comes_first(event_at: datetime, line: str) -> None:
    alert = view(event_at=event_at, event_label="Vote")

    assert plain(render_html(alert)).splitlines()[0] == line
    assert render_text(alert).splitlines()[0] == line


def test_a_past_sitting_is_a_plain_date_line_after_the_text() -> None:
    alert = view(event_at=datetime(2026, 7, 1, 14, 0, tzinfo=UTC), event_label="Vote")

    lines = plain(render_html(alert)).splitlines()

    assert lines[0].startswith("🔎 ")
    assert lines[-1] == "📅 Vote le 01/07/2026"  # what happened, never "séance" for all


def test_an_updated_document_is_marked() -> None:
    assert "🔄 mis à jour" in plain(render_html(view(update=True))).splitlines()[0]
    assert "🔄 mis à jour" in render_text(view(update=True))
    assert "mis à jour" not in render_html(view())


def test_a_dossier_follow_up_says_its_stage_without_keywords() -> None:
    item = view().item
    alert = AlertView("Sénat", item, (), {}, follow_up="Adopté en première lecture", now=NOW)

    text = plain(render_html(alert))

    assert "🔁 Suite du dossier : Adopté en première lecture" in text
    assert "Mots-clés" not in text
    assert "🔁 Suite du dossier : Adopté en première lecture" in render_text(alert)


def test_the_territory_is_in_the_head_line() -> None:
    alert = view(territory="Auvergne-Rhône-Alpes")

    head = plain(render_html(alert)).splitlines()[1]

    assert head == "Sénat · Auvergne-Rhône-Alpes · Proposition de loi · 13/07/2026"


def test_the_excerpt_does_not_repeat_the_title_when_the_hit_is_in_it() -> None:
    text = f"{TITLE} | Texte n° 170 déposé le 2 décembre"
    start = text.index("reconnaissance")
    in_title = Excerpt(text, start, start + len("reconnaissance faciale"))

    assert "<blockquote>" not in render_html(view(excerpt=in_title))
    assert "Extrait" not in render_text(view(excerpt=in_title))
    assert "<blockquote>" in render_html(view())  # a hit in the body is quoted


def test_a_burst_is_one_grouped_message_headed_with_its_count() -> None:
    views = [
        view(f"Décret n° {i} relatif à la reconnaissance faciale", number=i) for i in range(25)
    ]

    parts = render_burst(views)

    assert [positions for _, positions in parts] == [list(range(25))]
    text = plain(parts[0][0])
    assert text.startswith("📚 25 nouvelles alertes\n")
    assert text.count("L'article 2 interdit") == 3  # the first ones in full
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(lines) == 22  # the others one line each: kind, title, source, date
    assert lines[0] == (
        "• Proposition de loi : Décret n° 3 relatif à la reconnaissance faciale — Sénat, 13/07/2026"
    )
    assert '<a href="https://www.senat.fr/leg/ppl3.html">' in parts[0][0]


def test_a_long_burst_is_split_into_numbered_parts_between_alerts() -> None:
    views = [view(f"Arrêté {i} " + "très long " * 30, number=i) for i in range(60)]

    parts = render_burst(views)

    assert len(parts) > 1
    seen = []
    for n, (message, positions) in enumerate(parts, start=1):
        assert plain(message).startswith(f"📚 60 nouvelles alertes ({n}/{len(parts)})\n")
        seen += positions
    assert seen == list(range(60))


def test_a_digest_is_compact_grouped_by_topic_and_numbered() -> None:
    views = [
        view(f"Titre n°{i} <b> " + "mot " * 30, number=i, topic="vsa" if i % 2 else "biometrie")
        for i in range(40)
    ]

    parts = render_digest(views)

    assert len(parts) > 1
    seen = []
    for n, (message, positions) in enumerate(parts, start=1):
        text = plain(message)
        assert text.startswith(f"🗞 Votre sélection du jour — 40 alertes ({n}/{len(parts)})\n")
        assert "L'article 2" not in text  # one line per alert, no excerpts
        shown = [i for i in range(40) if f"Titre n°{i} <b> " in text]
        assert shown == sorted(positions)  # each part knows the alerts it holds
        seen += positions
        # Every part starts under a topic's name, so it reads alone.
        assert text.splitlines()[2] in (
            "Surveillance biométrique",
            "Vidéosurveillance algorithmique",
        ) or text.splitlines()[2].endswith("(suite)")
    assert sorted(seen) == list(range(40))
    first = plain(parts[0][0])
    assert first.index("Surveillance biométrique") < first.index("Titre n°0 ")


def test_a_short_digest_is_one_unnumbered_message() -> None:
    ((message, positions),) = render_digest([view(number=i) for i in range(3)])

    assert plain(message).startswith("🗞 Votre sélection du jour — 3 alertes\n")
    assert positions == [0, 1, 2]


def test_a_step_done_today_is_never_announced_as_to_come() -> None:
    # The committee's text "déposé le 13 juillet" (midnight in Paris), read that morning.
    alert = view(
        event_at=datetime(2026, 7, 12, 22, 0, tzinfo=UTC),
        event_label="Texte de la commission déposé",
    )
    text = render_text(alert)
    assert "prévu" not in text
    assert "📅 Texte de la commission déposé le 13/07/2026" in text


def test_a_follow_up_is_the_same_whichever_source_told_the_step() -> None:
    """What happened and when, linked to the text: not the source, not its wording."""
    textes = Item(
        "senat-textes",
        "tas22-128",
        "Proposition de loi relative à la reconnaissance biométrique dans l'espace public",
        "http://www.senat.fr/leg/tas22-128.html",
        datetime(2023, 6, 13, 6, 0, tzinfo=UTC),
        summary="Texte adopté n° 128 (2022-2023) le 12 juin 2023",
    )
    dossier_feed = Item(
        "senat-textes",
        "http://www.senat.fr/leg/tas22-128.html",
        "Texte n° 128",
        "http://www.senat.fr/leg/tas22-128.html",
        datetime(2023, 6, 12, 0, 0, tzinfo=UTC),
        summary="Première lecture - Sénat : Texte adopté par le Sénat le 12 juin 2023",
    )
    messages = {
        render_html(AlertView(name, item, (), {}, follow_up=stage_label(item), now=NOW))
        for name, item in (("Sénat — textes", textes), ("Sénat — dossier", dossier_feed))
    }
    assert len(messages) == 1
    assert (
        plain(messages.pop()) == "🔁 Suite du dossier : Adopté par le Sénat (n° 128) · 12/06/2023"
    )
