"""A WebDélib+ portal's pages: its list of sittings, and the documents of a sitting.

The list (``seances.jsp``) links each sitting to ``seance_agenda.jsp?date=…``
(``DD-MM-YYYY``, or ``YYYYMMDD&assembly=…``) and sometimes to its agenda, an
``openfile.jsp?…&name=Ordre du jour du DD/MM/YYYY``; a sitting's page links one
``openfile.jsp`` per act or report, its subject in the row around the link. As
a working scraper of the Limoges instance reads them.

``openfile.jsp`` is not the file: its page's script moves on to
``showFile.jsp``, which serves the PDF. ``document_text`` follows it, on the
portal's host only; ``webdelib.KIND`` declares it as the way its documents are read.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from watcher.errors import ParseError
from watcher.items import normalise_link
from watcher.sources.fulltext import MAX_DOCUMENT_BYTES, extract_text
from watcher.textdecode import decode_bytes

if TYPE_CHECKING:
    from watcher.fetch import FetchSession

_NUMERIC = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_MONTH_NAMES = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
)
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES.split(" "), start=1)}
_LONG = re.compile(r"\b(\d{1,2})(?:er)? (" + "|".join(_MONTHS) + r") (\d{4})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Sitting:
    """A sitting listed by the portal: its day, its page, what kind of sitting it is."""

    day: date
    url: str | None  # its seance_agenda.jsp page (None: only its agenda PDF is listed)
    label: str  # "séance plénière", "commission permanente" or "séance"
    documents: tuple["Document", ...] = ()  # documents linked from the list itself

    @property
    def key(self) -> str:
        """A short stable name for the cursor."""
        seed = normalise_link(self.url) if self.url else self.day.isoformat()
        return hashlib.sha1(seed.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Document:
    """One ``openfile.jsp`` document: the agenda, an act, a report."""

    title: str
    url: str
    context: str  # the text around the link (the act's subject on most portals)


def parse_sittings(page: str, base_url: str) -> list[Sitting]:
    """The sittings of a ``seances.jsp`` page, newest first, each once."""
    soup = BeautifulSoup(page, "html.parser")
    found: dict[tuple[date, str | None], Sitting] = {}
    agendas: dict[date, list[Document]] = {}
    for anchor in soup.find_all("a"):
        href = anchor.get("href")
        if not isinstance(href, str):
            continue
        url = urljoin(base_url, href)
        if "seance_agenda.jsp" in url:
            context = _row_text(anchor)
            day = _sitting_day(url) or parse_day(context)
            if day is not None:
                found.setdefault(
                    (day, normalise_link(url)), Sitting(day, url, _label(context, url))
                )
        elif "openfile.jsp" in url:
            document = _document(anchor, url)
            day = parse_day(document.title) or parse_day(document.context)
            if day is not None:
                agendas.setdefault(day, []).append(document)
    sittings = list(found.values())
    listed_days = {sitting.day for sitting in sittings}
    for day, documents in agendas.items():
        if day in listed_days:
            # The agenda PDF goes with the first sitting of that day.
            index = next(i for i, s in enumerate(sittings) if s.day == day)
            first = sittings[index]
            sittings[index] = Sitting(first.day, first.url, first.label, tuple(documents))
        else:
            sittings.append(Sitting(day, None, _label(documents[0].context), tuple(documents)))
    return sorted(sittings, key=lambda s: s.day, reverse=True)


def parse_sitting(page: str, base_url: str) -> list[Document]:
    """The documents (``openfile.jsp`` links) of a sitting page, in page order."""
    soup = BeautifulSoup(page, "html.parser")
    documents = []
    for anchor in soup.find_all("a"):
        href = anchor.get("href")
        if isinstance(href, str) and "openfile.jsp" in href:
            documents.append(_document(anchor, urljoin(base_url, href)))
    return documents


def parse_day(text: str) -> date | None:
    """The first date written in a text: 19/07/2021, 19-07-2021 or 19 juillet 2021."""
    numeric = _NUMERIC.search(text)
    if numeric:
        day, month, year = (int(part) for part in numeric.groups())
        return _date(year, month, day)
    long = _LONG.search(text)
    if long:
        return _date(int(long.group(3)), _MONTHS[long.group(2).lower()], int(long.group(1)))
    return None


def _sitting_day(url: str) -> date | None:
    """The ``date`` parameter of a sitting link: DD-MM-YYYY, YYYYMMDD or YYYY-MM-DD."""
    values = parse_qs(urlsplit(url).query).get("date", [])
    for value in values:
        compact = _COMPACT.match(value) or _ISO.match(value)
        if compact:
            year, month, day = (int(part) for part in compact.groups())
            return _date(year, month, day)
        found = parse_day(value)
        if found:
            return found
    return None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _document(anchor: Tag, url: str) -> Document:
    """A document's title: what it is (its link or ``name=``) and its subject (its row).

    Real act rows (``td.tableActe``) put the subject before a link that only says
    what the file is, then the annex note and two dates:
    ``Sécurité des lycées - <a>Rapport</a> - (sans annexe) 15/12/2026 03/12/2026``.
    The title keeps what the file is ("Rapport", "Délibération", "Acte n° 2026-3")
    before the subject, so an act whose subject is its report's title stays its
    own text, and drops the row's noise.
    """
    text = " ".join(anchor.get_text(" ").split())
    name = " ".join(parse_qs(urlsplit(url).query).get("name", [""])[0].split())
    # "name=Acte n° " (no number) says less than a link saying "Rapport".
    informative_name = bool(re.search(r"\d", name)) or len(name) > len(text)
    label = name if name and informative_name and len(text) <= len(name) else text
    label = label or name or url.rsplit("/", 1)[-1]
    context = _row_text(anchor)
    subject = _subject(context, label, text)
    if "ordre du jour" in label.lower():
        return Document(title=label, url=url, context=context)
    if len(label) >= 60 or not subject:  # the link is the subject (Béziers' rows)
        return Document(title=_clean(label), url=url, context=_clean(context))
    return Document(title=f"{label} : {subject}", url=url, context=_clean(context))


# The row noise of real act rows: the annex note, and the act's and publication's dates.
_ANNEX_NOTE = re.compile(r"\s*-?\s*\((?:sans|avec|\d+)\s+annexes?[^)]*\)", re.IGNORECASE)
_TRAILING_DATES = re.compile(r"(?:\s+\d{1,2}/\d{1,2}/\d{4})+\s*$")


def _clean(text: str) -> str:
    """A row's text without its annex note, trailing dates and dangling dashes."""
    text = _TRAILING_DATES.sub("", _ANNEX_NOTE.sub(" ", f" {text}"))
    return " ".join(text.split()).strip(" -–")


def _subject(context: str, label: str, link_text: str) -> str:
    """The row's text besides the link and the numbers it repeats; "" when that is little."""
    text = f" {context} "
    for said in dict.fromkeys(part for part in (label, link_text) if len(part) > 1):
        text = text.replace(f" - {said} - ", " ").replace(f" {said} ", " ", 1)
    words = _clean(text).split()
    known = set(label.split()) | set(link_text.split())
    while words and words[0] in known:
        words.pop(0)
    return " ".join(words).strip(" -–") if len(words) >= 2 else ""


def _row_text(anchor: Tag) -> str:
    """The text of the table row (or block) holding a link: where the act's subject is."""
    holder = anchor.find_parent(("tr", "li", "p", "div")) or anchor.parent
    return " ".join((holder or anchor).get_text(" ").split())


def _label(context: str, url: str = "") -> str:
    lowered = f"{context} {url}".lower().replace("+", " ")
    if "pléni" in lowered or "pleni" in lowered:
        return "séance plénière"
    if "commission permanente" in lowered:
        return "commission permanente"
    return "séance"


# ``openfile.jsp`` answers an HTML page whose script moves the browser on:
# ``document.location.href='../jsp/showFile.jsp?…&pdf=…'``, and that address serves
# the PDF, the same for every visitor (no cookie, no challenge). Seen in a public
# reader of the Lyon, Béziers and Levallois portals: mml-studio/declassifie,
# src/data/permitListsFeed.js (``webdelibFileUrl``) and its test
# scripts/lib/permitLists.test.mjs (the fake host's ``openfile.jsp`` answer).
_QUOTED_SHOWFILE = re.compile(r"""['"]([^'"<>]*showFile\.jsp\?[^'"<>]*)['"]""", re.IGNORECASE)
_BARE_SHOWFILE = re.compile(r"""(?:\.\./jsp/)?showFile\.jsp\?[^'"\s<>]+""", re.IGNORECASE)


def showfile_url(html: str, open_url: str) -> str | None:
    """The ``showFile.jsp`` address an ``openfile.jsp`` page moves to; None if it names none.

    Only an address on the portal's own host is followed: ParseError otherwise.
    """
    quoted = _QUOTED_SHOWFILE.search(html)
    found = quoted.group(1) if quoted else None
    if found is None:
        bare = _BARE_SHOWFILE.search(html)
        if bare is None:
            return None
        found = bare.group(0)
    if not found.startswith(("/", ".", "http://", "https://")):
        found = f"../jsp/{found}"  # as a browser at …/jsp/openfile.jsp resolves it
    target: str = urljoin(open_url, found.strip())
    if urlsplit(target).netloc.lower() != urlsplit(open_url).netloc.lower():
        raise ParseError(
            f"{open_url}: its page leads to another host ({urlsplit(target).netloc}); not followed"
        )
    return target


def document_text(fetcher: "FetchSession", url: str) -> str:
    """The text of a WebDélib+ document: ``openfile.jsp``, then the file it leads to."""
    response = fetcher.get(url, max_bytes=MAX_DOCUMENT_BYTES)
    if response is None:
        raise ParseError(f"{url}: the server answered 304 to an unconditional request")
    is_pdf = response.body.startswith(b"%PDF") or "pdf" in response.content_type.lower()
    target = (
        None
        if is_pdf
        else showfile_url(decode_bytes(response.body, response.content_type), response.url)
    )
    if target is None:  # a portal that serves the file itself
        return extract_text(response.body, response.content_type, url)
    document = fetcher.get(target, max_bytes=MAX_DOCUMENT_BYTES)
    if document is None:
        raise ParseError(f"{target}: the server answered 304 to an unconditional request")
    return extract_text(document.body, document.content_type, target)
