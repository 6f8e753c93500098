"""A subscriber's own words (/mots), matched like the maintainer's topics. Pure.

A rule is what the subscriber typed: ``"reconnaissance vocale"`` in quotes is a
phrase; ``vidéoprotection Lyon`` without quotes needs every word in the text
(anywhere). Each phrase or word is compiled by the same French-aware engine as
feeds.yml (accents, case, plurals, hyphens: ``watcher.matching``), so one chat's
words cost what a topic's keywords cost. Limits per chat (``MAX_RULES``,
``MAX_WORDS``, ``MIN_LETTERS``) keep one chat from slowing the matcher down.

The matches of a chat's rules become one ``TopicMatch`` of the chat's own topic,
``mots:<chat id>``, labelled "vos mots : …": routing, storage and rendering
treat it as any topic that only this chat subscribes to.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from watcher.errors import RuleError
from watcher.matching.engine import Matcher, TopicMatch
from watcher.matching.normalize import fold
from watcher.matching.rules import TopicRules, compile_topic

MAX_RULES = 10  # rules per chat
MAX_WORDS = 5  # words of a rule without quotes
MAX_CHARS = 80  # characters of a rule
MIN_LETTERS = 3  # letters or digits of each word (a rule of "le" would match everything)
PREFIX = "mots:"
LABEL = "vos mots"
_QUOTED = re.compile(r'^\s*["«“„](.+?)["»”“]\s*$')
_PART_SEPARATOR = "#"


class WordsError(ValueError):
    """A rule a subscriber typed that cannot be kept, and why (in French)."""


@dataclass(frozen=True)
class Rule:
    """One rule: the phrases that must all occur (one for a quoted phrase)."""

    text: str  # as shown back: "reconnaissance vocale" (quoted) or vidéoprotection Lyon
    parts: tuple[str, ...]


def topic_of(chat_id: int | str) -> str:
    """The topic id a chat's own words match under."""
    return f"{PREFIX}{chat_id}"


def is_personal(topic: str) -> bool:
    return topic.startswith(PREFIX)


def personal_label(match: TopicMatch) -> str:
    """How an alert names a chat's own words: "vos mots : « reconnaissance vocale »"."""
    return f"{LABEL} : {', '.join(match.keywords)}"


def parse_rule(typed: str) -> Rule:
    """The rule a subscriber typed, checked against the limits; WordsError says why not."""
    text = " ".join(typed.split())
    if not text:
        raise WordsError(
            'Donnez des mots : /mots ajouter "reconnaissance vocale" (une expression, entre '
            "guillemets) ou /mots ajouter vidéoprotection Lyon (tous les mots)."
        )
    if len(text) > MAX_CHARS:
        raise WordsError(f"Règle trop longue ({len(text)} caractères, {MAX_CHARS} au plus).")
    quoted = _QUOTED.match(text)
    if quoted:
        phrase = quoted.group(1).strip()
        rule = Rule(f"« {phrase} »", (phrase,))
    else:
        words = [w.strip('"«»“”„,;') for w in text.split()]
        words = [w for w in words if w]
        if len(words) > MAX_WORDS:
            raise WordsError(
                f"{len(words)} mots : {MAX_WORDS} au plus par règle. Pour une expression, "
                'mettez-la entre guillemets : /mots ajouter "reconnaissance vocale".'
            )
        rule = Rule(" ".join(words), tuple(words))
    for part in rule.parts:
        for word in fold(part).split():
            letters = sum(c.isalnum() for c in word)
            if letters < MIN_LETTERS and len(fold(part).split()) == 1:
                raise WordsError(
                    f"« {part} » est trop court : {MIN_LETTERS} lettres au moins par mot."
                )
    try:
        _compile("check", rule)
    except RuleError as exc:
        raise WordsError(f"Règle impossible à lire ({exc}).") from None
    return rule


def rule_from_stored(text: str) -> Rule:
    """A rule as stored (its shown text), read back."""
    if text.startswith("« ") and text.endswith(" »"):
        return Rule(text, (text[2:-2],))
    return Rule(text, tuple(text.split()))


def _compile(key: str, rule: Rule) -> dict[str, TopicRules]:
    return {
        f"{key}{_PART_SEPARATOR}{n}": compile_topic(
            f"{key}{_PART_SEPARATOR}{n}", label=part, keywords=[part]
        )
        for n, part in enumerate(rule.parts)
    }


class PersonalMatcher:
    """Every chat's rules in one matcher; ``match`` gives one TopicMatch per chat."""

    def __init__(self, rules: Mapping[int, Sequence[str]]) -> None:
        self.rules: dict[str, Rule] = {}  # "chat|n" -> rule
        topics: dict[str, TopicRules] = {}
        for chat_id, texts in rules.items():
            for n, text in enumerate(texts[:MAX_RULES]):
                key = f"{chat_id}|{n}"
                rule = rule_from_stored(text)
                try:
                    topics |= _compile(key, rule)
                except RuleError:  # stored by an older version: skipped, never fatal
                    continue
                self.rules[key] = rule
        self.matcher = Matcher(topics) if topics else None

    def __bool__(self) -> bool:
        return self.matcher is not None

    def match(self, fields: Sequence[str | None], *, explain: bool = True) -> list[TopicMatch]:
        if self.matcher is None:
            return []
        fired: dict[str, dict[int, TopicMatch]] = {}
        for found in self.matcher.match(fields, explain=explain):
            key, _, part = found.topic.rpartition(_PART_SEPARATOR)
            fired.setdefault(key, {})[int(part)] = found
        per_chat: dict[str, list[tuple[Rule, list[TopicMatch]]]] = {}
        for key, parts in fired.items():
            rule = self.rules[key]
            if len(parts) == len(rule.parts):  # every word of the rule is in the text
                chat = key.split("|", 1)[0]
                per_chat.setdefault(chat, []).append((rule, list(parts.values())))
        return [_chat_match(chat, found) for chat, found in per_chat.items()]


def _chat_match(chat: str, found: Iterable[tuple[Rule, list[TopicMatch]]]) -> TopicMatch:
    rules = [rule for rule, _ in found]
    parts = [m for _, matches in found for m in matches]
    excerpt = next((m.excerpt for m in parts if m.excerpt), None)
    words = tuple(dict.fromkeys(w for m in parts for w in m.words))
    shown = ", ".join(r.text for r in rules)
    return TopicMatch(
        topic_of(chat), f"{LABEL} : {shown}", tuple(r.text for r in rules), excerpt, words
    )


class WithWords(Matcher):
    """The maintainer's topics and the subscribers' own words, matched together
    (``watcher check --words``, ``watcher backtest --words``)."""

    def __init__(self, topics: Mapping[str, TopicRules], personal: PersonalMatcher) -> None:
        super().__init__(topics)
        self.personal = personal

    def match(
        self,
        fields: Sequence[str | None],
        *,
        topics: Iterable[str] | None = None,
        explain: bool = True,
    ) -> list[TopicMatch]:
        found = super().match(fields, topics=topics, explain=explain)
        return found + self.personal.match(fields, explain=explain)
