"""Matching speed and memory, as ``watcher backtest`` sees it.

Prints:
- items/s of the backtest path (JSONL in, matcher, JSONL out) on ~2 KB items,
  on one core (goal: >= 10,000 items/s);
- the matcher against a bare pyahocorasick scan for the same keyword spellings
  (goal: within 2x): both normalise the same texts, then the bare scan only
  iterates the automaton while the matcher also decides (case, exclusions,
  proximity). The ratio to a scan of texts folded beforehand is printed too;
- peak traced memory for N and 4N items (goal: flat);
- one 1 MB text full of proximity and reference hits that never pair up (the
  worst case of the two-sided rules) against the bare scan of the same text
  (goal: within 2x, whatever the text's length).

Items are built from the labelled real texts in ../shared/eval/dev.jsonl when
present: ordinary texts, with 10% built around a trap (plain CCTV, other senses
of "reconnaissance"...) and 5% around an alerting text; else from built-in
French sentences.

    python benchmarks/bench_matching.py [--items 20000] [--cpu]
"""

import argparse
import io
import json
import random
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import ahocorasick

from watcher.backtest import backtest, read_items
from watcher.config import load_config
from watcher.matching.engine import FIELD_SEPARATOR, Matcher
from watcher.matching.normalize import display_text, fold_prepared, prepare

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval" / "dev.jsonl"
# Wall time on a quiet core; with --cpu, the process's CPU time (a machine shared with
# other jobs slows both sides of a comparison alike, but a wall clock counts their turns too).
clock: Callable[[], float] = time.perf_counter
FALLBACK = [
    "Le conseil municipal approuve le budget primitif et la subvention aux associations sportives.",
    "Arrêté portant reconnaissance de l'état de catastrophe naturelle dans plusieurs communes.",
    "Décret relatif au statut particulier du corps des ingénieurs des travaux publics de l'État.",
    "La commission permanente attribue une aide à l'extension du système de vidéoprotection.",
    "Proposition de loi relative à la reconnaissance biométrique dans l'espace public.",
]


def corpus() -> tuple[list[str], list[str], list[str]]:
    """Ordinary, trap and alerting texts to build items from."""
    if not EVAL.is_file():
        return FALLBACK[:3], FALLBACK[3:4], FALLBACK[4:]
    ordinary, traps, positives = [], [], []
    for line in EVAL.open(encoding="utf-8"):
        item = json.loads(line)
        text = f"{item['title']}. {item['summary']}"
        if item["relevant"]:
            positives.append(text)
        elif item["why"].startswith("HARD NEG"):
            traps.append(text)
        else:
            ordinary.append(text)
    return ordinary, traps, positives


def items(count: int, seed: int = 7) -> Iterator[str]:
    """JSONL lines of ~2 KB items: 10% around a trap, 5% around an alerting text."""
    rng = random.Random(seed)
    ordinary, traps, positives = corpus()
    for index in range(count):
        draw = rng.random()
        parts = [rng.choice(positives)] if draw < 0.05 else []
        if 0.05 <= draw < 0.15:
            parts.append(rng.choice(traps))
        while sum(len(p) for p in parts) < 2000:
            parts.append(rng.choice(ordinary))
        rng.shuffle(parts)
        body = " ".join(parts)[:2048]
        yield json.dumps({"id": index, "title": body[:120], "summary": body[120:]}) + "\n"


def time_backtest(matcher: Matcher, lines: list[str]) -> float:
    out = io.StringIO()
    started = clock()
    backtest(matcher, read_items(lines, "bench"), out)
    return clock() - started


def fields_of(lines: list[str]) -> list[tuple[str, str]]:
    return [(item["title"], item["summary"]) for item in map(json.loads, lines)]


def time_matcher(matcher: Matcher, fields: list[tuple[str, str]]) -> float:
    started = clock()
    for pair in fields:
        matcher.match(pair, explain=False)
    return clock() - started


def normalise(pair: tuple[str, str]) -> str:
    return " " + FIELD_SEPARATOR.join(fold_prepared(prepare(display_text(f))) for f in pair) + " "


def bare_automaton(matcher: Matcher) -> "ahocorasick.Automaton":
    automaton = ahocorasick.Automaton()
    for term in matcher._all_terms():
        for variant in term.variants:
            automaton.add_word(f" {variant.folded} ", 1)
    automaton.make_automaton()
    return automaton


def time_bare_scan(
    automaton: "ahocorasick.Automaton", fields: list[tuple[str, str]], *, prefolded: bool
) -> float:
    """pyahocorasick alone for the same spellings, normalising first unless ``prefolded``."""
    texts = [normalise(pair) for pair in fields] if prefolded else []
    started = clock()
    for position, pair in enumerate(fields):
        text = texts[position] if prefolded else normalise(pair)
        for _ in automaton.iter(text):
            pass
    return clock() - started


# Council boilerplate: words that no rule looks for.
FILLER = " ".join(
    [
        "le conseil délibère sur le budget de la commune et approuve la convention passée",
        "avec le syndicat intercommunal pour l'entretien des voies et des réseaux",
    ]
).split(" ")


def unpaired_text(size: int) -> str:
    """About ``size`` characters where every near and ref rule has hits, never paired."""

    def filler(words: int) -> str:
        return " ".join(FILLER[i % len(FILLER)] for i in range(words))

    block = " ".join(
        [
            "vidéoprotection",
            filler(20),
            "algorithme",
            filler(20),
            "TAJ",
            filler(25),
            "visage",
            filler(20),
            "loi n° 2023-380",
            filler(8),
            "l'article 10 de la loi n° 2021-646",  # near the law, but another law's article
            filler(60),
            "l'article 10",
            filler(20),
            "biométrie",
            filler(25),
            "cornée",
            filler(20),
        ]
    )
    return " ".join([block] * (size // len(block) + 1))[:size]


def time_long_text(matcher: Matcher, automaton: "ahocorasick.Automaton", size: int) -> None:
    text = unpaired_text(size)
    matcher.match([text], explain=False)  # warm up
    matching = min(_timed(lambda: matcher.match([text], explain=False)) for _ in range(7))
    bare = min(
        _timed(lambda: [None for _ in automaton.iter(normalise((text, "")))]) for _ in range(7)
    )
    print(
        f"{len(text) / 1e6:.2f} MB text of unpaired proximity and reference hits: "
        f"matcher {matching:.3f} s, bare scan {bare:.3f} s -> {matching / bare:.2f}x  goal <= 2x"
    )


def _timed(call: Callable[[], object]) -> float:
    started = clock()
    call()
    return clock() - started


def peak_memory(matcher: Matcher, count: int) -> int:
    """Peak traced memory of a streamed backtest of ``count`` items."""
    tracemalloc.start()
    backtest(matcher, read_items(items(count), "bench"), _Null())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


class _Null(io.StringIO):
    def write(self, text: str) -> int:
        return len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of wall time")
    args = parser.parse_args()
    if args.cpu:
        global clock
        clock = time.process_time
    matcher = Matcher(load_config(ROOT / "feeds.yml").topics)
    lines = list(items(args.items))
    size = sum(len(line) for line in lines) / len(lines)
    fields = fields_of(lines)
    automaton = bare_automaton(matcher)
    time_backtest(matcher, lines[:500])  # warm up
    seconds = min(time_backtest(matcher, lines) for _ in range(3))
    matching = min(time_matcher(matcher, fields) for _ in range(3))
    bare = min(time_bare_scan(automaton, fields, prefolded=False) for _ in range(3))
    bare_prefolded = min(time_bare_scan(automaton, fields, prefolded=True) for _ in range(3))
    print(f"items: {len(lines)} of {size:.0f} bytes on average (JSON)")
    rate = len(lines) / seconds
    print(f"watcher backtest: {rate:,.0f} items/s ({seconds:.2f} s)  goal >= 10,000 items/s")
    print(f"matcher alone: {len(lines) / matching:,.0f} items/s ({matching:.2f} s)")
    print(
        f"bare pyahocorasick, same normalisation: {bare:.2f} s -> matcher is "
        f"{matching / bare:.2f}x  goal <= 2x"
    )
    print(
        f"bare pyahocorasick on texts folded beforehand: {bare_prefolded:.2f} s -> matcher is "
        f"{matching / bare_prefolded:.2f}x (folding included on one side only)"
    )
    time_long_text(matcher, automaton, 250_000)
    time_long_text(matcher, automaton, 1_000_000)
    small, large = peak_memory(matcher, 5_000), peak_memory(matcher, 20_000)
    print(
        f"peak memory: {small / 1e6:.1f} MB for 5,000 items, {large / 1e6:.1f} MB for 20,000 "
        f"(ratio {large / small:.2f}, flat when close to 1)"
    )


if __name__ == "__main__":
    main()
