"""Prefecture RAAs: reading the real PDFs (text layer, OCR), and a national cycle.

1. ``pdf``: for each real RAA of ../shared/fixtures/real/raa/, the text layer of
   every page (pypdfium2) and then the OCR of its scanned pages (Tesseract,
   French, one page at a time, single-threaded), with a fresh OCR cache: pages
   per second, CPU seconds (this process, and Tesseract's as children), and the
   peak memory of each.
2. ``cycle``: 101 local prefecture sites (the test site's shape: root -> year ->
   month, download links with size and date), each on its own loopback address
   (127.0.0.2...) so that the default pacing applies: 5 s between two requests to
   a host. A first ``watcher poll`` notes where they stand (at concurrency 101,
   not measured); then each site publishes 3 new RAAs (text only) and the
   measured ``watcher poll`` reads them at the given concurrency. Prints the wall
   time and the requests against the ideal: each site needs its month page and
   3 PDFs, 4 requests and 3 pauses, so at concurrency C the ideal is
   ceil(101 / C) x 15 s.

3. ``backtest``: the shipped topics over every act of the real RAAs, scanned pages
   OCR'd: which acts alert, under which topic (the helicopters of the Préfecture
   de police's arrêté n° 2024-01101 under ``drones``, nothing else).

    python benchmarks/bench_raa.py pdf
    python benchmarks/bench_raa.py cycle [--sites 101] [--concurrency 4 16]
    python benchmarks/bench_raa.py backtest
"""

import argparse
import math
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import REAL, run  # noqa: E402
from tests.feed_server import running_feed_server  # noqa: E402
from tests.raa_pdfs import RaaAct, raa_pdf  # noqa: E402
from tests.raa_site import PrefectureSite, Raa  # noqa: E402
from watcher.sources import pdfpages  # noqa: E402


def bench_pdf() -> None:
    files = sorted((REAL / "raa").glob("*.pdf"))
    if not files:
        sys.exit(f"no real RAA under {REAL / 'raa'}")
    if pdfpages.ocr_problem():
        print(f"warning: {pdfpages.ocr_problem()}")
    for path in files:
        body = path.read_bytes()
        start, cpu = time.perf_counter(), time.process_time()
        text_only = pdfpages.read_pages(body, cache_dir=None, budget=pdfpages.OcrBudget(0))
        text_wall, text_cpu = time.perf_counter() - start, time.process_time() - cpu
        pages = len(text_only.texts)
        print(
            f"{path.name}: {pages} pages, {len(body) / 1e6:.1f} MB, "
            f"{len(text_only.scanned)} scanned"
        )
        print(
            f"  text layer: {text_wall:.2f}s, {pages / text_wall:.0f} pages/s, CPU {text_cpu:.2f}s"
        )
        if not text_only.scanned or pdfpages.ocr_problem():
            continue
        with tempfile.TemporaryDirectory() as cache:
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            start, cpu = time.perf_counter(), time.process_time()
            budget = pdfpages.OcrBudget(3600)
            pdfpages.read_pages(body, cache_dir=Path(cache), budget=budget)
            wall, own = time.perf_counter() - start, time.process_time() - cpu
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            ocr_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
            print(
                f"  OCR: {budget.pages} pages in {wall:.1f}s, {budget.pages / wall:.2f} pages/s "
                f"({wall / budget.pages:.1f}s a page), CPU {ocr_cpu:.1f}s Tesseract + "
                f"{own:.1f}s watcher (render)"
            )
            start = time.perf_counter()
            pdfpages.read_pages(body, cache_dir=Path(cache), budget=pdfpages.OcrBudget(3600))
            print(f"  again, from the OCR cache: {time.perf_counter() - start:.2f}s")
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: watcher {own_peak:.0f} MB, Tesseract {child_peak:.0f} MB")


def bench_cycle(sites: int, concurrencies: list[int]) -> None:
    act = RaaAct("01-2026-12-03-00001", "Arrêté portant délégation de signature", ("Texte.",))
    for concurrency in concurrencies:
        with ExitStack() as stack, tempfile.TemporaryDirectory() as work:
            servers = [
                stack.enter_context(running_feed_server(f"127.0.0.{n + 2}")) for n in range(sites)
            ]
            farm = [PrefectureSite(server, "/p") for server in servers]
            for site in farm:
                site.start()
            config = Path(work) / "feeds.yml"
            db = Path(work) / "watcher.db"

            _write_config(config, farm, min(sites, 64))
            started = time.perf_counter()
            first = run("--config", str(config), "--db", str(db), "poll")
            assert first.code == 0, first.err
            print(
                f"first poll (backlog, concurrency {min(sites, 64)}): "
                f"{time.perf_counter() - started:.0f}s"
            )
            before = sum(len(site.times) for site in farm)
            for number, site in enumerate(farm):
                for n in range(3):
                    name = f"recueil-{number}-{n}"
                    site.publish(Raa(name, raa_pdf(name, [act]), site.today))
            _write_config(config, farm, concurrency)
            started = time.perf_counter()
            cycle = run("--config", str(config), "--db", str(db), "poll")
            wall = time.perf_counter() - started
            assert cycle.code == 0, cycle.err
            requests = sum(len(site.times) for site in farm) - before
            ideal = math.ceil(sites / concurrency) * 3 * 5.0
            print(
                f"concurrency {concurrency}: {sites} sites x 3 new RAAs in {wall:.0f}s "
                f"(ideal {ideal:.0f}s, x{wall / ideal:.2f}); {requests} requests "
                f"(ideal {sites * 4}: the month page and 3 PDFs a site)"
            )


def bench_backtest() -> None:
    from watcher.config import load_config
    from watcher.matching.engine import Matcher
    from watcher.sources.raa_acts import split_acts

    matcher = Matcher(load_config(ROOT / "feeds.yml").topics)
    with tempfile.TemporaryDirectory() as cache:
        for path in sorted((REAL / "raa").glob("*.pdf")):
            budget = pdfpages.OcrBudget(3600)
            pages = pdfpages.read_pages(path.read_bytes(), cache_dir=Path(cache), budget=budget)
            acts = split_acts(pages.texts)
            texts = [(a.act_id, a.title, a.text) for a in acts] or [
                ("(whole)", path.name, "\n".join(pages.texts))
            ]
            alerts = [
                (act_id, match.topic, match.keywords)
                for act_id, title, text in texts
                for match in matcher.match([title, "", text])
            ]
            print(
                f"{path.name}: {len(texts)} acts, {budget.pages} pages OCR'd, "
                f"{len(alerts)} alert(s)"
            )
            for act_id, topic, keywords in alerts:
                print(f"  {act_id}: {topic} ({', '.join(keywords)})")


def _write_config(config: Path, farm: list[PrefectureSite], parallel: int) -> None:
    lines = ["topics:", "  t:", "    label: T", "    keywords: [drone]", "sources:"]
    for number, site in enumerate(farm):
        lines += [f"  - id: pref-{number}", f"    name: P{number}", "    kind: raa"]
        lines.append(f"    url: {site.root}")
    lines += [
        "settings:",
        "  allow_private_addresses: true",
        f"  concurrency: {parallel}",
        "  poll_timeout: 10m",
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("pdf", "cycle", "backtest"))
    parser.add_argument("--sites", type=int, default=101)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 16])
    args = parser.parse_args()
    if args.what == "pdf":
        bench_pdf()
    elif args.what == "backtest":
        bench_backtest()
    else:
        bench_cycle(args.sites, args.concurrency)


if __name__ == "__main__":
    main()
