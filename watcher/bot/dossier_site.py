"""Whether a dossier watcher never stored exists: its house's site is asked.

``/suivre`` takes a Sénat or Assemblée dossier it does not know only when the
dossier's own stream answers (the Sénat's per-dossier feed, the Assemblée's
dossier document, where ``streams`` will read it), and names it by the title found
there; a 404 is a dossier that does not exist, said in one line.
"""

import html
import json
import logging
import re

from watcher.bot.replies import Context, runtime
from watcher.errors import FetchError
from watcher.sources import senat
from watcher.textdecode import decode_bytes

logger = logging.getLogger(__name__)

# How long the house's site is given to answer.
CHECK_SECONDS = 15.0
NOT_FOUND = (
    "Je ne trouve pas le dossier {name} : le site {house} ne le connaît pas. Vérifiez le "
    "lien ou le numéro (par exemple /suivre pjl22-220, ou l'adresse de la page du dossier)."
)
UNREACHABLE = (
    "Je n'ai pas pu vérifier le dossier {name} auprès du site {house} ({why}). "
    "Réessayez dans quelques minutes."
)


def stream_url(context: Context, dossier: str) -> str | None:
    """Where the dossier's own stream is read: the house's site, as the sources give it."""
    house, _, key = dossier.partition(":")
    source = runtime(context).config.source(source_for(context, dossier))
    if house == "senat":
        site = getattr(source.options, "site", senat.SENAT) if source else senat.SENAT
        return senat.dossier_feed_url(site, key)
    if house == "an":
        base = "https://www.assemblee-nationale.fr"
        if source is not None and "/dyn/opendata/" in source.url:
            base = source.url.split("/dyn/opendata/", 1)[0]
        return f"{base.rstrip('/')}/dyn/opendata/{key}.json"
    return None


async def check_on_site(context: Context, dossier: str) -> tuple[str, str]:
    """('', title) when the house's site has the dossier, else (what to tell the user, '')."""
    url = stream_url(context, dossier)
    if url is None:
        return "", ""  # not a house's dossier: nothing to check
    rt = runtime(context)
    name = html.escape(dossier.split(":", 1)[1])
    house = "du Sénat" if dossier.startswith("senat:") else "de l'Assemblée nationale"
    if rt.fetch_page is None:
        return UNREACHABLE.format(name=name, house=house, why="pas de connexion"), ""
    try:
        body = await rt.fetch_page(url)
    except FetchError as exc:
        if exc.status in (404, 410):
            return NOT_FOUND.format(name=name, house=house), ""
        logger.warning("/suivre could not check %s at %s: %s", dossier, url, exc)
        return UNREACHABLE.format(name=name, house=house, why=html.escape(str(exc)[:120])), ""
    return "", _title(body)


def _title(body: bytes) -> str:
    """The dossier's title in its feed (Sénat: "Sénat - Jeux Olympiques…") or document
    (Assemblée: ``titreDossier.titre``); '' when none is found."""
    if body.lstrip().startswith(b"{"):
        try:
            document = json.loads(body)
        except ValueError:
            return ""
        found = document.get("titreDossier") if isinstance(document, dict) else None
        return str(found.get("titre") or "") if isinstance(found, dict) else ""
    title = re.search(rb"<title[^>]*>([^<]{1,300})</title>", body)
    if title is None:
        return ""
    text = decode_bytes(title.group(1), "").strip()
    return html.unescape(text.removeprefix("Sénat - ").strip())


def source_for(context: Context, dossier: str) -> str:
    """The configured source whose site the dossier's stream is read from."""
    kind = {"senat": "senat", "an": "assemblee"}.get(dossier.split(":", 1)[0], "")
    sources = runtime(context).config.sources
    return next((s.id for s in sources if s.kind == kind), "")
