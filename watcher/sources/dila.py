"""The Journal officiel and the CNIL through DILA open data (``kind: dila``), no account.

``https://echanges.dila.gouv.fr/OPENDATA/JORFSIMPLE/`` (or ``JORF/``, ``CNIL/``)
is a directory listing of ``.tar.gz`` archives: a multi-GB ``Freemium`` full dump,
then increments ``PREFIX_YYYYMMDD-HHMMSS.tar.gz`` about twice a day, one XML
file per object. watcher never takes the full dump: it starts from the newest
increment and reads each new one, streamed to disk under a size cap, resumed
with a Range request when a download was cut.
"""

import dataclasses
import logging
import re
import tarfile
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from watcher.errors import FetchError, ParseError
from watcher.fields import option, size, whole_number
from watcher.items import Item
from watcher.matching.normalize import fold
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.legifrance_texts import NATURES, PUBLIC_LINK, jo_aliases
from watcher.sources.options import archive_prefix
from watcher.sources.prepwork import senate_dossiers
from watcher.sources.xmlutil import child_text, find, local, paris_date, parse_xml, text_of
from watcher.textdecode import decode_bytes

logger = logging.getLogger(__name__)
MAX_MEMBER_BYTES = 30 * 1024 * 1024
CNIL_LINK = "https://www.legifrance.gouv.fr/cnil/id/{}"


def archive_names(listing: str, prefix: str) -> list[str]:
    """Increment archives of a directory listing, oldest first (names sort by time)."""
    found = set(re.findall(rf'href="(?:[^"]*/)?({prefix}_\d{{8}}-\d{{6}}\.tar\.gz)"', listing))
    return sorted(found)


@dataclass(frozen=True)
class DilaOptions:
    archive: str = option("", parse=archive_prefix)  # "" = the directory's name (JORFSIMPLE)
    max_archives: int = option(5, parse=whole_number(1, 50))  # increments read per poll
    max_archive_size: int = option(300 * 1024**2, parse=size)  # larger downloads are cut


def poll_dila(
    source: SourceConfig, options: DilaOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """Read the increments published since the last poll."""
    prefix = options.archive or _prefix_from_url(source.url)
    response = ctx.fetcher.get(source.url)
    listing = decode_bytes(response.body, response.content_type) if response else ""
    names = archive_names(listing, prefix)
    if not names:
        raise ParseError(
            f"no {prefix}_YYYYMMDD-HHMMSS.tar.gz archive in the listing at {source.url}"
        )
    last = state.cursor.get("last", "")
    max_archives = options.max_archives
    if ctx.backlog:
        # Start after the newest increment: the backlog is not read.
        return PollResult([], _cursor(state, names[-1]))
    pending = (
        [name for name in names if name > last][:max_archives] if last else names[-max_archives:]
    )
    cap = options.max_archive_size
    items: list[Item] = []
    warnings: list[str] = []
    ctx.cache_dir.mkdir(parents=True, exist_ok=True)
    for name in pending:
        path = ctx.cache_dir / name
        try:
            ctx.fetcher.download(urljoin(source.url, name), path, max_bytes=cap)
        except FetchError:
            if items:  # keep what earlier archives gave; this one resumes next poll
                return PollResult(items, _cursor(state, last), warnings=warnings)
            raise
        found, problem = read_archive(path, source.id)
        items.extend(found)
        if problem:
            warnings.append(f"{name}: {problem}; {len(found)} text(s) read from it")
        path.unlink(missing_ok=True)
        last = name
    return PollResult(items, _cursor(state, last), warnings=warnings)


KIND = SourceKind(
    "dila",
    DilaOptions,
    poll_dila,
    "Journal officiel",
    family="jo",
    default_url="https://echanges.dila.gouv.fr/OPENDATA/JORFSIMPLE/",
    no_fulltext="reads each text's full text from the archives already; remove fulltext",
)


def _prefix_from_url(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].upper() or "JORFSIMPLE"


def _cursor(state: SourceState, last: str) -> SourceState:
    return SourceState(state.etag, state.last_modified, state.content_hash, {"last": last})


def read_archive(path: Path, source_id: str) -> tuple[list[Item], str | None]:
    """Items of an archive, and what went wrong if it could not be read to the end."""
    texts: dict[str, Item] = {}
    articles: dict[str, list[str]] = {}
    problem = None
    try:
        for name, body in _xml_members(path):
            try:
                _read_object(parse_xml(body, name), source_id, texts, articles)
            except ParseError as exc:
                logger.warning("%s", exc)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        problem = f"archive truncated or corrupt ({exc or type(exc).__name__})"
    for text_id, parts in articles.items():
        if text_id in texts:
            item = texts[text_id]
            texts[text_id] = _with_body(item, " ".join([item.body, *parts]).strip())
    return list(texts.values()), problem


def _xml_members(path: Path) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            if not member.isfile() or not member.name.endswith(".xml"):
                continue
            if member.size > MAX_MEMBER_BYTES:
                logger.warning(
                    "%s: %s is over %d bytes, skipped", path.name, member.name, MAX_MEMBER_BYTES
                )
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                yield member.name, handle.read()


def _read_object(
    root: ET.Element, source_id: str, texts: dict[str, Item], articles: dict[str, list[str]]
) -> None:
    tag = local(root.tag)
    if tag == "TEXTE":  # JORFSIMPLE: a whole text in one file
        _add(texts, _jorfsimple_text(root, source_id))
    elif tag == "TEXTE_VERSION":  # JORF global: the text, its articles in other files
        _add(texts, _text_version(root, source_id))
    elif tag == "ARTICLE":
        context = find(root, "TEXTE")
        text_id = context.get("cid", "") if context is not None else ""
        if text_id:
            articles.setdefault(text_id, []).append(child_text(root, "BLOC_TEXTUEL"))
    elif tag == "TEXTE_CNIL":
        _add(texts, _cnil_text(root, source_id))
    elif tag == "JO":  # an issue's table of contents: titles of texts it lists
        issue = child_text(root, "TITRE")
        published = paris_date(child_text(root, "DATE_PUBLI"))
        for link in root.iter("LIEN_TXT"):
            text_id = link.get("idtxt", "")
            if text_id and text_id not in texts:
                texts[text_id] = Item(
                    source_id=source_id,
                    key=text_id,
                    title=link.get("titretxt", ""),
                    url=PUBLIC_LINK.format(text_id),
                    published=published,
                    summary=issue,
                    kind=_kind_from_title(link.get("titretxt", "")),
                    dossier=f"jorf:{text_id}",
                    aliases=jo_aliases(link.get("titretxt", ""), "", ""),
                )


def _add(texts: dict[str, Item], item: Item) -> None:
    """A full text replaces the title-only entry an issue's table of contents gave."""
    texts[item.key] = item


def _jorfsimple_text(root: ET.Element, source_id: str) -> Item:
    """A JORFSIMPLE ``<TEXTE>``: the whole text, articles included."""
    parts = [child_text(root, name) for name in ("NOTICE", "VISAS")]
    parts += [text_of(find(article, "BLOC_TEXTUEL")) for article in root.iter("ARTICLE")]
    parts.append(child_text(root, "SIGNATAIRES"))
    issue = child_text(root, "ORIGINE_PUBLI")
    return _jorf_item(root, source_id, parts, issue)


def _text_version(root: ET.Element, source_id: str) -> Item:
    """A JORF ``<TEXTE_VERSION>``: its articles come in their own files."""
    parts = [child_text(root, name) for name in ("NOTICE", "VISAS", "SIGNATAIRES")]
    return _jorf_item(root, source_id, parts, "")


def _jorf_item(root: ET.Element, source_id: str, parts: list[str], issue: str) -> Item:
    text_id = child_text(root, "ID")
    nature = child_text(root, "NATURE")
    title = child_text(root, "TITREFULL") or child_text(root, "TITRE")
    return Item(
        source_id=source_id,
        key=text_id,
        title=title,
        url=PUBLIC_LINK.format(text_id),
        published=paris_date(child_text(root, "DATE_PUBLI")),
        summary=" · ".join(p for p in (child_text(root, "MINISTERE"), issue) if p),
        body=" ".join(p for p in parts if p),
        kind=NATURES.get(nature.upper(), nature.lower()),
        dossier=f"jorf:{text_id}",
        aliases=jo_aliases(title, child_text(root, "NOR"), child_text(root, "ID_ELI"))
        + senate_dossiers(child_text(root, "TP")),
    )


def _cnil_text(root: ET.Element, source_id: str) -> Item:
    text_id = child_text(root, "ID")
    nature = child_text(root, "NATURE_DELIB") or "délibération"
    return Item(
        source_id=source_id,
        key=text_id,
        title=child_text(root, "TITREFULL") or child_text(root, "TITRE"),
        url=CNIL_LINK.format(text_id),
        published=paris_date(child_text(root, "DATE_TEXTE") or child_text(root, "DATE_PUBLI")),
        summary=f"CNIL · {nature}",
        body=child_text(root, "BLOC_TEXTUEL"),
        kind=f"délibération CNIL ({nature.lower()})" if nature else "délibération CNIL",
    )


def _with_body(item: Item, body: str) -> Item:
    return dataclasses.replace(item, body=body)


def _kind_from_title(title: str) -> str:
    """The nature a title opens with: "Arrêté du 10 juin…", "ARRÊTÉ", "Décret n°…".

    Every accent is folded ("ARRÊTÉ" is ARRETE): 38 of the recorded JO container's
    101 titles open with "Arrêté".
    """
    words = fold(title).split(" ", 1)
    return NATURES.get(words[0].upper(), "") if words[0] else ""
