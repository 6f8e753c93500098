"""Reading the XML of public sources: parse safely, get text, ignore namespaces."""

import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

from watcher.errors import ParseError

PARIS = ZoneInfo("Europe/Paris")


def parse_xml(body: bytes, what: str) -> ET.Element:
    """The root element, or ParseError naming what was being read.

    Python's expat refuses external entities and bounds entity expansion, so an
    untrusted document cannot read files or blow up memory.
    """
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise ParseError(f"{what}: malformed XML ({exc})") from None


def local(tag: str) -> str:
    """A tag without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def find(element: ET.Element, name: str) -> ET.Element | None:
    """The first descendant with this local name, whatever its namespace."""
    for child in element.iter():
        if local(child.tag) == name:
            return child
    return None


def text_of(element: ET.Element | None) -> str:
    """All the text inside an element, white space folded."""
    if element is None:
        return ""
    return " ".join(" ".join(element.itertext()).split())


def child_text(element: ET.Element, name: str) -> str:
    return text_of(find(element, name))


def paris_date(value: str) -> datetime | None:
    """A ``YYYY-MM-DD`` publication date, as midnight in Paris."""
    try:
        day = datetime.strptime(value.strip()[:10], "%Y-%m-%d")
    except ValueError:
        return None
    if day.year >= 2999:  # DILA's "no end date"
        return None
    return day.replace(tzinfo=PARIS)
