"""Subscribers' own words (/mots) at scale: what 1,000 chats with 10 rules each add to
matching an item, against the maintainer's topics alone.

    python benchmarks/bench_words.py [--chats 1000] [--items 2000]
"""

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from watcher.config import load_config  # noqa: E402
from watcher.matching.engine import Matcher  # noqa: E402
from watcher.personal import MAX_RULES, PersonalMatcher, parse_rule  # noqa: E402

WORDS = [
    "vidéoprotection",
    "caméra",
    "drone",
    "biométrie",
    "empreinte",
    "visage",
    "reconnaissance",
    "vocale",
    "lyon",
    "marseille",
    "nice",
    "paris",
    "gare",
    "stade",
    "école",
    "police",
    "municipale",
    "algorithme",
    "surveillance",
    "frontière",
    "aéroport",
    "identité",
    "fichier",
    "traitement",
    "données",
    "image",
    "transport",
    "métro",
]
TITLES = (
    "Délibération du conseil municipal relative à l'extension de la vidéoprotection",
    "Décret portant création d'un traitement de données à caractère personnel",
    "Arrêté autorisant l'usage de drones par la police municipale de Nice",
    "Question écrite sur la reconnaissance faciale dans les gares",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--items", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(7)
    # Chats' words: the common ones above and many others (places, techniques, names),
    # as subscribers choose them; most texts fire none of them.
    vocabulary = list(WORDS) + [f"{rng.choice(WORDS)[:4]}terme{n}" for n in range(5000)]
    rules = {
        chat: [
            parse_rule(" ".join(rng.sample(vocabulary, rng.randint(1, 3)))).text
            for _ in range(MAX_RULES)
        ]
        for chat in range(args.chats)
    }
    config = load_config(ROOT / "feeds.yml")
    started = time.perf_counter()
    personal = PersonalMatcher(rules)
    compiled = time.perf_counter() - started
    topics = Matcher(config.topics)
    # Texts like the sources' (a title, a few words of summary): a few rules fire on each.
    items = [(rng.choice(TITLES), " ".join(rng.sample(WORDS, 2))) for _ in range(args.items)]

    def rate(match: object) -> float:
        started = time.perf_counter()
        for fields in items:
            match(fields)  # type: ignore[operator]
        return args.items / (time.perf_counter() - started)

    alone = rate(topics.match)
    both = rate(lambda f: topics.match(f) + personal.match(f))
    print(f"{args.chats} chats x {MAX_RULES} rules compiled in {compiled:.2f} s")
    print(f"topics alone: {alone:,.0f} items/s; with every chat's words: {both:,.0f} items/s")


if __name__ == "__main__":
    main()
