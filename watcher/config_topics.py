"""feeds.yml's ``topics:``: each topic's words, compiled into matching rules.

A topic's keys are declared like a kind's options (``_TopicKeys``), with
checkers from feeds.yml's vocabulary; its rules are then compiled by
``matching.rules.compile_topic``, whose errors name the list and the index
(``topics.biometrie: keywords[0]: ...``). A topic's former ids
(``renamed_from:``, or its synonym ``aliases:``) map old ids to current ones.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from watcher.config_reader import Reader
from watcher.errors import RuleError
from watcher.fields import SLUG, at_least, boolean, keys_of, list_of, option, text
from watcher.matching.rules import TopicRules, compile_topic


def _rules(value: object) -> list[object]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list")
    return value


def _rule_list(value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("must be a list of phrases or {near, with, within} rules")
    return value


def _negation(value: object) -> Mapping[str, object] | None:
    if value is not None and not isinstance(value, Mapping):
        raise ValueError("must be a mapping {words: [...], bans: [...], within: N}")
    return value


def _former_id(value: object) -> str:
    name = text(value)
    if not SLUG.match(name):
        raise ValueError("a former topic id is a lower-case slug")
    return name


_FORMER_IDS = list_of(_former_id, allow_empty=True)


@dataclass(frozen=True, kw_only=True)  # keywords, required, comes second
class _TopicKeys:
    label: str = option("", parse=text)  # the topic's id when absent
    keywords: Sequence[object] = option(parse=_rules, missing="list the words that alert")
    exclude: Sequence[object] = option(parse=_rule_list, factory=list)
    weak: Sequence[str] = option(parse=list_of(text, allow_empty=True), factory=list)
    weak_min: int = option(2, parse=at_least(1))
    weak_repeat: int = option(0, parse=at_least(0, "0: off"))
    weak_title: bool = option(False, parse=boolean)
    negation: Mapping[str, object] | None = option(None, parse=_negation)
    renamed_from: Sequence[str] = option(parse=_FORMER_IDS, factory=list)
    aliases: Sequence[str] = option(parse=_FORMER_IDS, factory=list)  # renamed_from's synonym


def read_topics(reader: Reader, raw: object) -> tuple[dict[str, TopicRules], dict[str, str]]:
    """The topics by id, and each former topic id -> its topic."""
    if not isinstance(raw, Mapping) or not raw:
        raise reader.fail("topics", "must map at least one topic id to {label, keywords}")
    topics: dict[str, TopicRules] = {}
    formers: dict[str, _TopicKeys] = {}
    for topic_id, body in raw.items():
        path = f"topics.{topic_id}"
        if not isinstance(topic_id, str) or not SLUG.match(topic_id):
            raise reader.fail(path, "topic id must be a lower-case slug like biometrie")
        keys = reader.section(body, path, keys_of(_TopicKeys)).build(_TopicKeys)
        try:
            topics[topic_id] = compile_topic(topic_id, **_rules_of(keys, topic_id))
        except RuleError as exc:
            raise reader.fail(path, str(exc)) from None
        formers[topic_id] = keys
    return topics, _renamed(reader, formers)


def _rules_of(keys: _TopicKeys, topic_id: str) -> dict[str, Any]:
    return {
        "label": keys.label or topic_id,
        "keywords": keys.keywords,
        "exclude": keys.exclude,
        "weak": keys.weak,
        "weak_min": keys.weak_min,
        "weak_repeat": keys.weak_repeat,
        "weak_title": keys.weak_title,
        "negation": keys.negation,
    }


def _renamed(reader: Reader, formers: Mapping[str, _TopicKeys]) -> dict[str, str]:
    """Each former topic id -> its topic; an id still in use, or claimed twice, is refused."""
    renamed: dict[str, str] = {}
    for topic_id, keys in formers.items():
        for key, olds in (("renamed_from", keys.renamed_from), ("aliases", keys.aliases)):
            for i, old in enumerate(olds):
                path = f"topics.{topic_id}.{key}[{i}]"
                if old in formers:
                    raise reader.fail(path, f"{old!r} is still a topic of its own")
                if renamed.get(old, topic_id) != topic_id:
                    raise reader.fail(path, f"{old!r} is claimed by {renamed[old]!r} too")
                renamed[old] = topic_id
    return renamed
