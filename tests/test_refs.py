"""Legal references as rules: {ref: "loi n° 2023-380, article 10"} and its spellings."""

from pathlib import Path

import pytest

from tests.conftest import run
from watcher.config import load_config
from watcher.matching.engine import Matcher
from watcher.matching.rules import compile_topic

REPO_CONFIG = Path(__file__).resolve().parents[1] / "feeds.yml"
VSA = "loi n° 2023-380, article 10"
ALICEM = "décret n° 2019-452"
CSI = "article L. 252-1 du code de la sécurité intérieure"


def fires(ref: str, text: str) -> bool:
    topic = compile_topic("t", label="T", keywords=[{"ref": ref}])
    return bool(Matcher({"t": topic}).match([text]))


REF_CASES = [
    # (reference, text, matches)
    pytest.param(VSA, "l'article 10 de la loi n° 2023-380", True, id="article-of-law"),
    pytest.param(VSA, "L’article 10 de la loi no 2023-380 est abrogé", True, id="no"),
    pytest.param(VSA, "à l'article 10 de la loi nº 2023-380", True, id="ordinal-sign"),
    pytest.param(VSA, "l'article 10 de la loi numéro 2023-380", True, id="numero"),
    pytest.param(VSA, "l'article 10 de la loi n ° 2023-380", True, id="spaced-degree"),
    pytest.param(VSA, "l'article 10 de la LOI N°2023-380", True, id="capitals-glued"),
    pytest.param(
        VSA,
        "Le I de l'article 10 de la loi n° 2023-380 du 19 mai 2023 relative aux jeux "
        "Olympiques et Paralympiques de 2024 est ainsi modifié : la date du 31 mars 2025 "
        "est remplacée par celle du 31 décembre 2027.",
        True,
        id="amendment-with-date",
    ),
    pytest.param(
        VSA, "pris en application de l’article 10 de la loi n° 2023-380", True, id="applies"
    ),
    pytest.param(
        VSA,
        "La loi n° 2023-380 du 19 mai 2023 est ainsi modifiée : 1° L'article 10 est ainsi rédigé",
        True,
        id="law-then-its-article",
    ),
    pytest.param(
        VSA,
        "Vu la loi n° 2023-380 du 19 mai 2023 relative aux jeux Olympiques ; "
        "Vu le décret n° 2023-828 ; II. – À l'article 10 de la même loi, les mots sont supprimés",
        True,
        id="meme-loi",
    ),
    pytest.param(
        VSA,
        "Vu la loi n° 2023-380 ; Vu la loi n° 78-17 du 6 janvier 1978 ; À l'article 10 de la "
        "même loi",
        False,
        id="meme-loi-designates-another-law",
    ),
    pytest.param(
        VSA,
        "La loi n° 2023-380 est modifiée. " + "Le conseil délibère longuement. " * 15 + "À "
        "l'article 10 de la même loi",
        False,
        id="meme-loi-too-far",
    ),
    pytest.param(VSA, "l'article 11 de la loi n° 2023-380", False, id="other-article"),
    pytest.param(VSA, "l'article 100 de la loi n° 2023-380", False, id="article-inside-number"),
    pytest.param(VSA, "l'article 10 de la loi n° 2023-3801", False, id="law-inside-number"),
    pytest.param(VSA, "l'article 10 de la loi n° 12023-380", False, id="law-after-digits"),
    pytest.param(
        VSA,
        "l'article 10 de la loi n° 2021-646 et la loi n° 2023-380",
        False,
        id="article-of-another-law-same-sentence",
    ),
    pytest.param(
        VSA,
        "l'article 10 du décret n° 2023-828 pris pour l'application de la loi n° 2023-380",
        False,
        id="article-of-the-decree",
    ),
    pytest.param(VSA, "la loi n° 2023-380 du 19 mai 2023", False, id="law-without-article"),
    pytest.param(VSA, "l'article 10 de la loi du 19 mai 2023", False, id="law-by-date-not-matched"),
    pytest.param(
        VSA,
        "Vu la loi n° 2023-380 ; Arrête : Article 10 : le présent arrêté est publié",
        False,
        id="article-of-the-order-itself",
    ),
    pytest.param(VSA, "l'arrêté n° 2023-380 et son article 10", False, id="arrete-same-number"),
    pytest.param(ALICEM, "Décret n°2019-452 du 13 mai 2019", True, id="whole-decree"),
    pytest.param(ALICEM, "l'article 4 du décret no 2019-452", True, id="any-article-of-decree"),
    pytest.param(ALICEM, "le décret 2019-452", True, id="decree-without-n"),
    pytest.param(ALICEM, "la loi n° 2019-452", False, id="law-same-number"),
    pytest.param(ALICEM, "délibération n° 2019-452", False, id="deliberation-same-number"),
    pytest.param(CSI, "l'article L. 252-1 du code de la sécurité intérieure", True, id="code"),
    pytest.param(CSI, "article L.252-1 du CSI", True, id="code-acronym-glued"),
    pytest.param(CSI, "l'article L 252-1 du code de sécurité intérieure", True, id="code-no-la"),
    pytest.param(CSI, "l’article L252-1 du même code", False, id="meme-code-no-code-named"),
    pytest.param(
        CSI,
        "Vu le code de la sécurité intérieure, notamment ses articles L. 251-2 et L. 252-1",
        True,
        id="code-named-before",
    ),
    pytest.param(
        CSI,
        "Vu le code de la sécurité intérieure ; vu l'article L. 252-1 du même code",
        True,
        id="meme-code",
    ),
    pytest.param(
        CSI,
        "Vu le code de la sécurité intérieure, notamment son article L. 252-1 ; Vu la loi n° 2023-380",
        True,
        id="next-citation-not-introduced-by-de",
    ),
    pytest.param(CSI, "l'article L. 252-1 du code de la route", False, id="other-code"),
    pytest.param(CSI, "l'article R. 252-1 du CSI", False, id="regulatory-article"),
    pytest.param(CSI, "l'article L. 252-10 du CSI", False, id="longer-article"),
    pytest.param(CSI, "l'article L. 252-1 du csi", False, id="acronym-lower-case"),
]


@pytest.mark.parametrize(("ref", "text", "matches"), REF_CASES)
def test_reference_spellings(ref: str, text: str, matches: bool) -> None:
    assert fires(ref, text) is matches


def test_ref_hit_is_named_by_the_rule_and_shows_the_texts_words() -> None:
    topic = compile_topic("t", label="T", keywords=[{"ref": "loi n°  2023-380, article 10"}])
    (match,) = Matcher({"t": topic}).match(["Au I de l’article 10 de la loi nº 2023-380 du"])
    assert match.keywords == ("ref: loi n° 2023-380, article 10",)
    assert match.words == ("article 10 de la loi nº 2023-380",)
    assert match.excerpt is not None
    assert match.excerpt.marked() == "Au I de l’«article 10 de la loi nº 2023-380» du"


def test_ref_hit_spread_over_a_sentence_chain_shows_both_parts() -> None:
    topic = compile_topic("t", label="T", keywords=[{"ref": VSA}])
    (match,) = Matcher({"t": topic}).match(
        ["La LOI n° 2023-380 est ainsi modifiée : 1° L'article 10 est abrogé"]
    )
    assert match.words == ("LOI n° 2023-380 … article 10",)


def test_shipped_topic_catches_an_amendment_that_only_names_the_article() -> None:
    shipped = Matcher(load_config(REPO_CONFIG).topics)
    amendment = [
        "Amendement n° 52 — Article 35",
        "Au premier alinéa du I de l'article 10 de la loi n° 2023-380 du 19 mai 2023, "
        "la date : « 31 mars 2025 » est remplacée par la date : « 31 décembre 2027 ».",
    ]
    (match,) = shipped.match(amendment)
    assert match.keywords == ("ref: loi n° 2023-380, article 10",)
    # The law's other articles, cited the same way, stay quiet.
    assert not shipped.match([amendment[1].replace("article 10", "article 11")])


def test_check_command_explains_a_ref_hit(workdir: Path) -> None:
    result = run(
        "--config",
        str(REPO_CONFIG),
        "check",
        "Le II de l'article 10 de la loi n° 2023-380 est abrogé.",
    )
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "biometrie (Surveillance biométrique et vidéosurveillance algorithmique)",
        "  keywords: ref: loi n° 2023-380, article 10",
        "  excerpt: Le II de l'«article 10 de la loi n° 2023-380» est abrogé.",
    ]


BAD_REFS = [
    pytest.param(
        "{ref: loi sur la sécurité}",
        "keywords[1].ref: 'loi sur la sécurité' is not a reference watcher can read; write "
        '"loi n° 2023-380, article 10"',
        id="no-number",
    ),
    pytest.param(
        "{ref: 'loi n° 2023-380, article'}",
        "keywords[1].ref: 'loi n° 2023-380, article' is not a reference watcher can read",
        id="article-without-number",
    ),
    pytest.param(
        "{ref: ''}", "keywords[1].ref: '' must name a text, e.g. \"loi n° 2023", id="empty"
    ),
    pytest.param(
        "{ref: [décret n° 2019-452]}",
        "keywords[1].ref: ['décret n° 2019-452'] must name a text",
        id="list",
    ),
    pytest.param(
        "{ref: décret n° 2019-452, within: 5}",
        'keywords[1]: a reference rule is {ref: "loi n° 2023-380, article 10"} alone, got keys '
        "ref, within",
        id="extra-key",
    ),
    pytest.param(
        "{ref: 'article 3 de la loi n° 2023-380, article 10'}",
        "keywords[1].ref: 'article 3 de la loi n° 2023-380, article 10' names two articles",
        id="two-articles",
    ),
]


@pytest.mark.parametrize(("rule", "message"), BAD_REFS)
def test_malformed_ref_is_one_line_naming_topic_and_position(
    workdir: Path, rule: str, message: str
) -> None:
    (workdir / "feeds.yml").write_text(
        "topics:\n  biometrie:\n    label: Biométrie\n"
        f"    keywords: [reconnaissance faciale, {rule}]\n"
        "sources:\n  - {id: senat, name: Sénat, kind: rss, url: 'https://www.senat.fr/rss/x.rss'}\n",
        encoding="utf-8",
    )
    result = run("validate")
    assert result.code == 1
    (line,) = result.err.strip().splitlines()
    assert line.startswith("watcher: feeds.yml: topics.biometrie: " + message), line


def test_ref_in_exclude_is_refused(workdir: Path) -> None:
    (workdir / "feeds.yml").write_text(
        "topics:\n  biometrie:\n    label: Biométrie\n    keywords: [biométrie]\n"
        "    exclude: [{ref: décret n° 2019-452}]\n"
        "sources:\n  - {id: senat, name: Sénat, kind: rss, url: 'https://www.senat.fr/rss/x.rss'}\n",
        encoding="utf-8",
    )
    result = run("validate")
    assert result.code == 1
    assert result.err.strip() == (
        "watcher: feeds.yml: topics.biometrie: exclude[0]: a ref rule alerts; put it under keywords"
    )


def test_excerpt_prefers_a_keywords_words_to_a_reference() -> None:
    topic = compile_topic(
        "t", label="T", keywords=["traitement(s) algorithmique(s)", {"ref": ALICEM}]
    )
    (match,) = Matcher({"t": topic}).match(
        ["Le décret n° 2019-452 est modifié ; les traitements algorithmiques sont interdits."]
    )
    assert match.keywords == ("traitement(s) algorithmique(s)", "ref: décret n° 2019-452")
    assert match.words == ("traitements algorithmiques", "décret n° 2019-452")
    assert match.excerpt is not None
    assert "«traitements algorithmiques»" in match.excerpt.marked()


def test_backtest_counts_an_item_found_only_through_a_reference(workdir: Path) -> None:
    (workdir / "in.jsonl").write_text(
        '{"id": "amdt-52", "title": "Amendement n° 52 — ARTICLE 35", "relevant": true, '
        '"summary": "Le I de l\'article 10 de la loi n° 2023-380 du 19 mai 2023 est abrogé."}\n'
        '{"id": "amdt-53", "title": "Amendement n° 53 — ARTICLE 36", "relevant": false, '
        '"summary": "Le I de l\'article 11 de la loi n° 2023-380 du 19 mai 2023 est abrogé."}\n',
        encoding="utf-8",
    )
    result = run("--config", str(REPO_CONFIG), "backtest", "--input", "in.jsonl")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        '{"id": "amdt-52", "matched": true, "topics": ["biometrie"], '
        '"keywords": ["ref: loi n° 2023-380, article 10"]}',
        '{"id": "amdt-53", "matched": false, "topics": [], "keywords": []}',
    ]
    assert "recall: 1.000, precision: 1.000" in result.err
