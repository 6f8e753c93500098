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
from watcher.matching.excerpt import Excerpt
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
    """Every chat's rules in one matcher; ``match`` gives one TopicMatch per chat.

    Every distinct phrase or word of every chat is one keyword of a single pseudo-topic,
    so a text costs one scan and one topic whatever the number of chats (the engine
    visits each topic per text); the keywords that fired say which rules hold.
    """

    def __init__(self, rules: Mapping[int, Sequence[str]]) -> None:
        self.parts: dict[str, str] = {}  # a phrase, folded -> its first spelling
        self.rules: list[tuple[str, Rule, tuple[str, ...]]] = []  # chat, rule, parts
        self.by_part: dict[str, list[int]] = {}  # a part's spelling -> rules using it
        for chat_id, texts in rules.items():
            for text in texts[:MAX_RULES]:
                rule = rule_from_stored(text)
                try:
                    parts = tuple(self._part(part) for part in rule.parts)
                except RuleError:  # stored by an older version: skipped, never fatal
                    continue
                for part in set(parts):
                    self.by_part.setdefault(part, []).append(len(self.rules))
                self.rules.append((str(chat_id), rule, parts))
        keywords = list(self.parts.values())
        self.matcher = (
            Matcher({_TOPIC: compile_topic(_TOPIC, label=LABEL, keywords=keywords)})
            if keywords
            else None
        )

    def _part(self, part: str) -> str:
        key = " ".join(fold(part).split())
        if key not in self.parts:
            compile_topic(_TOPIC, label=LABEL, keywords=[part])  # raises RuleError
            self.parts[key] = part
        return self.parts[key]

    def __bool__(self) -> bool:
        return self.matcher is not None

    def match(self, fields: Sequence[str | None], *, explain: bool = True) -> list[TopicMatch]:
        if self.matcher is None:
            return []
        found = self.matcher.match(fields, explain=explain)
        if not found:
            return []
        fired = set(found[0].keywords)
        positions = sorted({p for part in fired for p in self.by_part.get(part, ())})
        kept = [self.rules[p] for p in positions if fired.issuperset(self.rules[p][2])]
        per_chat: dict[str, list[Rule]] = {}
        for chat, rule, _ in kept:
            per_chat.setdefault(chat, []).append(rule)
        excerpt = found[0].excerpt
        return [_chat_match(chat, rules, excerpt) for chat, rules in per_chat.items()]


_TOPIC = "mots"


def _chat_match(chat: str, rules: list[Rule], excerpt: Excerpt | None) -> TopicMatch:
    """One chat's fired rules as a match of its topic; the excerpt is kept only when
    its hit is one of this chat's words (it is the text's first hit of any chat's)."""
    hit = fold(excerpt.text[excerpt.hit_start : excerpt.hit_end]) if excerpt else ""
    mine = {" ".join(fold(p).split()) for r in rules for p in r.parts}
    shown = ", ".join(r.text for r in rules)
    return TopicMatch(
        topic_of(chat),
        f"{LABEL} : {shown}",
        tuple(r.text for r in rules),
        excerpt if hit and any(hit.startswith(m[:4]) for m in mine) else None,
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
