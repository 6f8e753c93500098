"""feeds.yml's YAML, read so that no mistake is silent and every error is one line.

PyYAML keeps the last of two equal keys without a word, so a maintainer's line
``channels:`` written above the shipped file's own would be ignored: here a
duplicate key at any level is an error naming both lines. A YAML syntax error
becomes one line with its line number and, for the usual slips (an unquoted
``@channel``, a tab, a missing space after a colon), what to write instead.
"""

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode

# libyaml's parser when PyYAML has it (ten times faster on 1,000 sources); the
# constructor, where duplicates are caught, is Python in both.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DuplicateKey(Exception):
    """Two equal keys in one mapping: the message names both lines."""


class _StrictLoader(_Base):  # type: ignore[misc]
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeConstructor reports it
                continue
            if first is not None:
                raise DuplicateKey(
                    f"line {line}: key {key!r} is already set on line {first}; "
                    "keep one of them (a later key would silently replace the first)"
                )
            seen[key] = line
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _hint(problem: str, lines: list[str], line: int, column: int) -> str:
    """The likely fix for a YAML syntax error, from its problem and the lines around it."""
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    above = next((t for t in reversed(lines[: max(line - 1, 0)]) if t.strip()), "")
    char = here[column : column + 1]
    if char in ("@", "`") or "'@'" in problem:
        return '; put the value in quotes, like chat_id: "@channelname"'
    if char == "\t" or "\t" in here[: len(here) - len(here.lstrip())]:
        return "; indent with spaces, not tabs"
    if re.search(r":\s*(\[\]|\{\})\s*(#.*)?$", above):
        return (
            f"; the line above ({above.strip()!r}) already gives an empty value: "
            "remove the [] (or {}) to write the list below it"
        )
    if "mapping values are not allowed" in problem:
        return "; put a value containing ': ' in quotes"
    if "expected key" in problem or "expected <block end>" in problem:
        return "; check the indentation (spaces, aligned with the lines above)"
    return ""


def load_yaml(text: str) -> Any:
    """The document, or ValueError with one line: where, what, and the likely fix."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except DuplicateKey as exc:
        raise ValueError(str(exc)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        lines = text.splitlines()
        snippet = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        problem = " ".join((exc.problem or exc.context or "invalid YAML").split())
        hint = _hint(problem, lines, line, mark.column if mark is not None else 0)
        where = f"line {line} ({snippet!r}): " if snippet else f"line {line}: " if line else ""
        raise ValueError(f"{where}{problem} (invalid YAML){hint}") from None
    except yaml.YAMLError as exc:
        raise ValueError(" ".join(str(exc).split()) + " (invalid YAML)") from None
