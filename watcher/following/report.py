"""``watcher dossiers``: the followed dossiers for maintainers, each with its steps. Pure."""

from collections.abc import Mapping, Sequence
from datetime import datetime

from watcher.delivery.render import format_date
from watcher.store.dossiers import Dossier, StepRecord

STAGE_WIDTH = 44


def status_of(dossier: Dossier, now: datetime) -> str:
    """followed, ended (its law published and the time for decrees gone), or stopped."""
    if dossier.status != "followed":
        return dossier.status
    return "followed" if dossier.followed(now) else "ended"


def report(
    dossiers: Sequence[Dossier],
    *,
    timezone: str,
    now: datetime,
    steps: Mapping[str, Sequence[StepRecord]] | None = None,
) -> str:
    """One line per dossier (its title under it, then its steps in order: date, what
    happened, the sources that showed it), then who follows it."""
    if not dossiers:
        return "no dossier followed yet: one is followed once one of its texts is alerted"
    lines = [
        f"{'dossier':<26} {'status':<9} {'stage':<{STAGE_WIDTH}} {'last step':<10} "
        f"{'next date':<10} following"
    ]
    for d in dossiers:
        stage = d.stage if len(d.stage) <= STAGE_WIDTH else d.stage[: STAGE_WIDTH - 1] + "…"
        followers = [f.destination for f in d.followers if f.active]
        nxt = format_date(d.next_date, timezone) if d.next_date and d.next_date > now else "-"
        lines.append(
            f"{d.dossier:<26} {status_of(d, now):<9} {stage or '-':<{STAGE_WIDTH}} "
            f"{format_date(d.last_step_at, timezone) or '-':<10} {nxt:<10} "
            f"{', '.join(followers) or '-'}"
        )
        if d.title:
            lines.append(f"  {d.title[:100]}")
        if d.last_error:
            lines.append(f"  stream error: {d.last_error[:200]}")
        for step in (steps or {}).get(d.dossier, ()):
            when = format_date(step.at, timezone) or "-"
            lines.append(f"  {when:<10} {step.label:<{STAGE_WIDTH}} {', '.join(step.sources)}")
        if status_of(d, now) == "ended" and d.law:
            lines.append(f"  ended: law {d.law} published, its decrees' time is over")
    return "\n".join(lines)
