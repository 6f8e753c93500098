"""feeds.yml validation: each mistake gives one line naming the file, the key and the fix."""

from pathlib import Path

import pytest

from tests.conftest import run
from watcher.config import load_config
from watcher.sources.assemblee import AssembleeOptions
from watcher.sources.legifrance import LegifranceOptions
from watcher.sources.senat import SenatOptions

REPO_CONFIG = Path(__file__).resolve().parents[1] / "feeds.yml"

GOOD_TOPICS = """
topics:
  biometrie:
    label: Biométrie
    keywords: [reconnaissance faciale]
"""
GOOD_SOURCE = """
sources:
  - id: senat
    name: Sénat
    kind: rss
    url: https://www.senat.fr/rss/textes.rss
"""

BAD_CONFIGS = [
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "colour: blue\n",
        "feeds.yml: colour: unknown key; expected one of settings, topics, sources, channels, maintainers",
        id="unknown-top-level-key",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("    kind: rss\n", "    kind: rss\n    intervall: 5m\n"),
        "feeds.yml: sources[senat].intervall: unknown key",
        id="unknown-source-key",
    ),
    pytest.param(
        GOOD_TOPICS
        + GOOD_SOURCE.replace("    kind: rss\n", "    kind: rss\n    interval: 5 min\n"),
        "feeds.yml: sources[senat].interval: '5 min' is not a duration like 30s, 15m, 2h, 1d",
        id="bad-duration",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + GOOD_SOURCE.replace("sources:\n", ""),
        "feeds.yml: sources[#2].id: duplicate id 'senat' (source #1 has it too); ids must be unique",
        id="duplicate-id",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("https://www.senat.fr", "ftp://www.senat.fr"),
        "feeds.yml: sources[senat].url: 'ftp://www.senat.fr/rss/textes.rss' must be an http(s) URL",
        id="non-http-url",
    ),
    pytest.param(
        GOOD_TOPICS.replace("[reconnaissance faciale]", "[]") + GOOD_SOURCE,
        "feeds.yml: topics.biometrie.keywords: must be a non-empty list",
        id="empty-keywords",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("    kind: rss\n", "    kind: rss\n    topics: [vsa]\n"),
        "feeds.yml: sources[senat].topics[0]: unknown topic 'vsa'",
        id="missing-topic",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "channels:\n  - chat_id: 12\n    topics: [nope]\n",
        "feeds.yml: channels[0].topics[0]: unknown topic 'nope'",
        id="channel-missing-topic",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "channels:\n  - chat_id: veille\n",
        "feeds.yml: channels[0].chat_id: 'veille' must be a numeric chat id or an @channelname",
        id="channel-bad-id",
    ),
    # channels: is read by the Telegram target's own declaration (delivery/telegram_kind.py).
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "channels:\n  - topics: [biometrie]\n",
        "feeds.yml: channels[0].chat_id: is missing; give the chat's number or @channelname",
        id="channel-without-chat",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "channels:\n  - chat_id: 12\n    topic: [biometrie]\n",
        "feeds.yml: channels[0].topic: unknown key; expected one of chat_id, topics",
        id="channel-key-typo",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "channels:\n  - '@veille'\n",
        "feeds.yml: channels[0]: must be a mapping of chat_id, topics",
        id="channel-not-a-mapping",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "maintainers: [alice]\n",
        "feeds.yml: maintainers[0]: 'alice' must be a numeric user id",
        id="maintainer-not-number",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("kind: rss", "kind: atom"),
        "feeds.yml: sources[senat].kind: 'atom' is not one of",
        id="unknown-kind",
    ),
    pytest.param(
        GOOD_TOPICS
        + GOOD_SOURCE.replace("    kind: rss\n", "    kind: rss\n    backfill: yes please\n"),
        "feeds.yml: sources[senat].backfill: 'yes please' must be true or false",
        id="backfill-not-boolean",
    ),
    pytest.param(
        GOOD_TOPICS + "sources:\n  - id: Sénat Textes\n    url: https://x.fr/\n",
        "feeds.yml: sources[#1].id: 'Sénat Textes' must be a lower-case slug",
        id="id-not-slug",
    ),
    pytest.param(
        GOOD_TOPICS,
        "feeds.yml: sources: must be a non-empty list of {id, name, kind, url}",
        id="no-sources",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "settings:\n  timeout: -3\n",
        "feeds.yml: settings.timeout: -3 must be a positive duration",
        id="negative-timeout",
    ),
    pytest.param("topics: [oops\n", "feeds.yml: line 2: ", id="invalid-yaml"),
    pytest.param(
        GOOD_TOPICS.replace("[reconnaissance faciale]", "['intelligent(e']") + GOOD_SOURCE,
        "feeds.yml: topics.biometrie: keywords[0]: unbalanced or nested parenthesis in 'intelligent(e'",
        id="rule-unbalanced-parenthesis",
    ),
    pytest.param(
        GOOD_TOPICS.replace("[reconnaissance faciale]", "['vid.*o']") + GOOD_SOURCE,
        "feeds.yml: topics.biometrie: keywords[0]: 'vid.*o' contains a wildcard or regex character",
        id="rule-regex-refused",
    ),
    pytest.param(
        GOOD_TOPICS.replace("[reconnaissance faciale]", "[{near: [caméra], with: [IA], within: 0}]")
        + GOOD_SOURCE,
        "feeds.yml: topics.biometrie: keywords[0].within: 0 must be a number of words from 1 to 200",
        id="rule-bad-window",
    ),
    pytest.param(
        GOOD_TOPICS.replace("[reconnaissance faciale]", "[{near: [caméra], within: 5}]")
        + GOOD_SOURCE,
        "feeds.yml: topics.biometrie: keywords[0]: a proximity rule is {near: [terms], with: [terms], within: N}",
        id="rule-near-without-with",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("kind: rss", "kind: senat\n    max_texts: 0"),
        "feeds.yml: sources[senat].max_texts: 0 must be a whole number from 1 to 500",
        id="option-out-of-range",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("kind: rss", "kind: senat\n    max_documents: 10"),
        "feeds.yml: sources[senat].max_documents: unknown key; expected one of id, name, kind, url,",
        id="option-of-another-kind",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("kind: rss", "kind: opendatasoft\n    mode: csv"),
        "feeds.yml: sources[senat].mode: 'csv' must be one of records, export",
        id="option-not-a-choice",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("kind: rss", "kind: dila\n    max_archive_size: lots"),
        "feeds.yml: sources[senat].max_archive_size: 'lots' is not a size like 500KB, 20MB, 1GB",
        id="option-not-a-size",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("kind: rss", "kind: scdl\n    fields: {titre: objet}"),
        "feeds.yml: sources[senat].fields: unknown field 'titre'; use id, title, date, url, body",
        id="option-unknown-field-name",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("kind: rss", "kind: rss\n    territory: ' '"),
        "feeds.yml: sources[senat].territory: must be a non-empty string naming the place",
        id="territory-empty",
    ),
    pytest.param(
        GOOD_TOPICS
        + GOOD_SOURCE
        + "maintainers: [1]\nchannels:\n  - chat_id: 5\nmaintainers: []\n",
        "feeds.yml: line 15: key 'maintainers' is already set on line 12; keep one of them",
        id="duplicate-top-level-key",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("    kind: rss\n", "    kind: rss\n    name: Bis\n"),
        "feeds.yml: line 11: key 'name' is already set on line 9; keep one of them",
        id="duplicate-key-in-a-source",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "settings:\n  digest_time: 8:00\n",
        "feeds.yml: settings.digest_time: 8:00 without quotes is read as the number 480; "
        'write it in quotes, like digest_time: "08:00"',
        id="unquoted-clock-time",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "channels:\n  - chat_id: @veille\n",
        "feeds.yml: line 13 ('- chat_id: @veille'): found character that cannot start any "
        'token (invalid YAML); put the value in quotes, like chat_id: "@channelname"',
        id="unquoted-at-channel",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + 'channels: []\n  - chat_id: "@veille"\n',
        "feeds.yml: line 13 ('- chat_id: \"@veille\"'): did not find expected key (invalid "
        "YAML); the line above ('channels: []') already gives an empty value: remove the []",
        id="uncommented-under-empty-list",
    ),
    pytest.param(
        GOOD_TOPICS
        + GOOD_SOURCE
        + "  - id: cnil\n    url: https://cnil.fr/f\n    interval: 5 min\n",
        "feeds.yml: sources[cnil].interval: '5 min' is not a duration",
        id="source-named-by-its-id",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("    kind: rss\n", '    kind: rss\n    territory: "…"\n'),
        "feeds.yml: sources[senat].territory: '…' is a placeholder; write the place the source "
        "covers",
        id="placeholder-territory",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "settings:\n  max_response_size: lots\n",
        "feeds.yml: settings.max_response_size: 'lots' is not a size like 500KB, 20MB, 1GB",
        id="settings-key-named-unlike-its-field",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "settings:\n  concurrency: 100\n",
        "feeds.yml: settings.concurrency: 100 must be a whole number from 1 to 64",
        id="settings-out-of-range",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "settings:\n  timezone: Europe/Lutece\n",
        "feeds.yml: settings.timezone: 'Europe/Lutece' is not a time zone",
        id="settings-unknown-time-zone",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("kind: rss", "kind: rss\n    topics: [biometrie, '']"),
        "feeds.yml: sources[senat].topics[1]: must be a non-empty string",
        id="list-entry-named-by-its-index",
    ),
    pytest.param(
        GOOD_TOPICS.replace("label: Biométrie", "label: Biométrie\n    weak_min: 0") + GOOD_SOURCE,
        "feeds.yml: topics.biometrie.weak_min: 0 must be a whole number >= 1",
        id="topic-key-checked-like-the-others",
    ),
    pytest.param(
        GOOD_TOPICS.replace("    keywords: [reconnaissance faciale]\n", "") + GOOD_SOURCE,
        "feeds.yml: topics.biometrie.keywords: is missing; list the words that alert",
        id="topic-without-keywords",
    ),
    pytest.param(
        GOOD_TOPICS + "sources:\n  - name: Sénat\n    url: https://www.senat.fr/rss/textes.rss\n",
        "feeds.yml: sources[#1].id: is missing; give the source a lower-case id, like senat",
        id="source-without-id",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE.replace("kind: rss", "kind: [rss]"),
        "feeds.yml: sources[senat].kind: ['rss'] is not one of arcgis, assemblee,",
        id="kind-not-a-name",
    ),
    pytest.param(
        GOOD_TOPICS + GOOD_SOURCE + "maintainers: [1, alice]\n",
        "feeds.yml: maintainers[1]: 'alice' must be a numeric user id",
        id="maintainer-named-by-its-index",
    ),
    pytest.param(
        GOOD_TOPICS.replace("[reconnaissance faciale]", "['---']") + GOOD_SOURCE,
        "feeds.yml: topics.biometrie: keywords[0]: '---' has a word with no letters or digits",
        id="rule-no-letters",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_bad_config_gives_one_line_error(workdir: Path, text: str, message: str) -> None:
    (workdir / "feeds.yml").write_text(text, encoding="utf-8")

    result = run("validate")

    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("watcher: " + message), lines[0]
    assert "Traceback" not in result.err


def test_missing_config_file_says_how_to_point_at_one(workdir: Path) -> None:
    result = run("poll")
    assert result.code == 1
    assert (
        result.err.strip()
        == "watcher: feeds.yml: file not found; pass --config PATH or set WATCHER_CONFIG"
    )


def test_config_path_from_option_then_environment(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = workdir / "elsewhere.yml"
    other.write_text(GOOD_TOPICS + GOOD_SOURCE, encoding="utf-8")
    assert run("--config", str(other), "validate").code == 0
    monkeypatch.setenv("WATCHER_CONFIG", str(other))
    result = run("validate")
    assert result.code == 0
    assert "elsewhere.yml: OK" in result.out


def test_the_shipped_channel_and_maintainer_examples_validate_once_uncommented(
    tmp_path: Path,
) -> None:
    text = REPO_CONFIG.read_text(encoding="utf-8")
    assert "\nchannels:" not in text and "\nmaintainers:" not in text  # comments, not keys
    for line in ("# channels:", '#   - chat_id: "@veille_biometrie"', "#     topics: [biometrie]"):
        text = text.replace(line, line[2:], 1)
    text = text.replace("# maintainers: [123456789]", "maintainers: [123456789]")
    (tmp_path / "feeds.yml").write_text(text, encoding="utf-8")
    config = load_config(tmp_path / "feeds.yml")
    assert [c.chat_id for c in config.channels] == ["@veille_biometrie"]
    assert config.maintainers == {123456789}


def test_validate_summarises_the_shipped_feeds_yml(workdir: Path) -> None:
    result = run("--config", str(REPO_CONFIG), "validate")
    assert result.code == 0, result.err
    assert "topic biometrie" in result.out
    assert "senat-textes" in result.out


def test_defaults_and_durations(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yml"
    path.write_text(
        GOOD_TOPICS + GOOD_SOURCE + "  - id: an\n    url: https://an.fr/f\n    interval: 2h\n"
        "settings:\n  interval: 90\n  max_response_size: 5MB\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.sources[0].interval == 90
    assert config.sources[1].interval == 7200
    assert config.sources[1].name == "an"
    assert config.sources[0].topics == ("biometrie",)
    assert config.settings.max_response_bytes == 5 * 1024 * 1024


def test_options_are_typed_and_defaulted_by_their_kind(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yml"
    path.write_text(
        GOOD_TOPICS
        + GOOD_SOURCE.replace("kind: rss", "kind: senat\n    territory: '  Rennes   Métropole '")
        + "  - id: jo\n    kind: legifrance\n    max_texts: 20\n"
        + "  - id: an\n    kind: assemblee\n",
        encoding="utf-8",
    )
    senat, jo, an = load_config(path).sources
    assert senat.options == SenatOptions()
    assert senat.options.max_texts == 50
    assert senat.territory == "Rennes Métropole"
    assert jo.options == LegifranceOptions(max_texts=20)
    assert jo.url == "https://api.piste.gouv.fr/dila/legifrance/lf-engine-app"
    assert jo.territory == ""
    assert an.options == AssembleeOptions(days=2, max_documents=300)
