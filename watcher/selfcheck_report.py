"""What ``watcher sources check`` and /verifier show: a table, then what to change.

One aligned line per source (its answer, shape, figures and verdict), then for
each source that is not simply ``ok`` where it went and the advice of its check.
Pure: checks in, lines out.
"""

from collections.abc import Sequence

from watcher.selfcheck import SourceCheck

VERDICTS_FR = {
    "ok": "ok",
    "moved": "déplacée",
    "unreachable": "injoignable",
    "unrecognised": "format non reconnu",
    "empty": "vide",
    "no-text": "sans texte",
    "skipped": "ignorée",
    "failed": "erreur",
}
_HEADERS = ("source", "kind", "answer", "shape", "items", "dated", "sittings", "newest", "text")
_HEADERS_FR = (
    "source",
    "type",
    "réponse",
    "format",
    "éléments",
    "datés",
    "séances",
    "récent",
    "texte",
)


def table(checks: Sequence[SourceCheck], *, french: bool = False) -> list[str]:
    """One line per source, aligned, with its verdict last."""
    headers = [*(_HEADERS_FR if french else _HEADERS), "verdict"]
    rows = [headers] + [_row(check, french) for check in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(len(headers) - 1)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    ]


def details(checks: Sequence[SourceCheck]) -> list[str]:
    """Below the table: for each source that is not simply ok, where it went and what to do."""
    lines: list[str] = []
    for check in checks:
        if check.verdict == "ok":
            continue
        lines.append(f"{check.source.id}: {check.verdict}")
        exchange = check.exchange
        if exchange is not None and exchange.final_url and exchange.moved:
            lines.append(f"  asked {exchange.url}")
            lines.append(f"  ended {exchange.final_url}")
        lines += [f"  {line}" for line in check.advice]
    return lines


def render(checks: Sequence[SourceCheck]) -> str:
    """What ``watcher sources check`` prints."""
    usable = sum(check.usable for check in checks)
    lines = [*table(checks)]
    more = details(checks)
    if more:
        lines += ["", *more]
    lines += ["", f"{usable} of {len(checks)} source(s) usable"]
    return "\n".join(lines)


def _row(check: SourceCheck, french: bool) -> list[str]:
    figures, exchange = check.figures, check.exchange
    answer = "-"
    if exchange is not None:
        answer = str(exchange.status) if exchange.status else "none"
        if exchange.moved:
            answer += " moved" if not french else " déplacée"
    shape = "-"
    if figures is not None and figures.outcome != "unreachable":
        recognised = figures.outcome != "unrecognised"
        shape = ("oui" if recognised else "non") if french else ("yes" if recognised else "no")
    ok = figures is not None and figures.outcome in ("ok", "empty")  # figures were read
    text = (
        f"{figures.with_text}/{figures.without_text}" if ok and check.sampled and figures else "-"
    )
    newest = f"{figures.newest:%Y-%m-%d}" if ok and figures and figures.newest else "-"
    return [
        check.source.id,
        check.source.kind,
        answer,
        shape,
        str(figures.items) if ok and figures else "-",
        str(figures.dated) if ok and figures else "-",
        str(figures.sittings) if ok and figures else "-",
        newest,
        text,
        VERDICTS_FR.get(check.verdict, check.verdict) if french else check.verdict,
    ]
