"""Folding French text into the form keywords are matched on.

The folded form is lower-case ASCII words separated by single spaces: accents,
ligatures (œ, æ), typographic apostrophes, hyphens, non-breaking and thin spaces,
line breaks, HTML tags and entities all disappear, so "l’Vidéo-surveillance\u00a0"
and "l'video surveillance" fold alike. Each word of the folded text is one word of
the original, in order, which is how excerpts are cut from the original accented
text (``word_spans``).

Everything here runs at C speed (``str.replace``, ``bytes.translate``,
``bytes.split``): folding is on the hot path of every item.
"""

import html
import re
import unicodedata
from functools import cache

# Characters outside Latin-1 that French texts use and that must not glue words
# together or vanish: ligatures become two letters, typographic punctuation and
# the many Unicode spaces become a plain space.
_WIDE_REPLACEMENTS = (
    ("œ", "oe"),
    ("Œ", "OE"),
    ("\u2019", " "),  # ’ right single quotation mark, the usual French apostrophe
    ("\u2018", " "),
    ("\u02bc", " "),  # ʼ modifier letter apostrophe
    ("\u2010", " "),  # hyphen
    ("\u2011", " "),  # non-breaking hyphen
    ("\u2013", " "),  # en dash
    ("\u2014", " "),  # em dash
    ("\u202f", " "),  # narrow no-break space (before ; : ! ? in French typography)
    ("\u2009", " "),  # thin space
    ("\u200b", ""),  # zero-width space
    ("\u00ad", ""),  # soft hyphen: invisible, must not split a word
)
_LATIN1_LIGATURES = (("æ", "ae"), ("Æ", "AE"), ("ß", "ss"))
# Latin-1 letters with no ASCII base letter in their decomposition.
_NON_DECOMPOSABLE = {
    "Ð": "D",
    "ð": "d",
    "Ø": "O",
    "ø": "o",
    "Þ": "T",
    "þ": "t",
    "ß": "s",
    "Æ": "A",
    "æ": "a",
}
_TAG = re.compile(r"<[^>]{0,2000}>")
_SPACE_RUNS = re.compile(b"  +")
# Characters that belong to a word once folded; everything else separates words.
WORD_CHARS = "0-9A-Za-zÀ-ÖØ-öø-ÿ"
# A word of a display text: the same segmentation as folding, which spells œ/æ out
# and drops soft hyphens and zero-width spaces inside words.
_DISPLAY_WORD = re.compile(f"[{WORD_CHARS}Œœ][{WORD_CHARS}Œœ\u00ad\u200b]*")


@cache
def _fold_table(keep_case: bool) -> bytes:
    """A 256-byte table mapping Latin-1 bytes to ASCII letters/digits or a space."""
    table = bytearray(b" " * 256)
    for code in range(256):
        char = chr(code)
        if not re.fullmatch(f"[{WORD_CHARS}]", char):
            continue
        base = _NON_DECOMPOSABLE.get(char) or unicodedata.normalize("NFKD", char)[0]
        table[code] = ord(base if keep_case else base.lower())
    return bytes(table)


def strip_markup(text: str) -> str:
    """Remove HTML tags and decode entities, leaving words apart where tags stood."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def display_text(text: str) -> str:
    """The text as a reader sees it: markup gone, composed accents (NFC)."""
    text = strip_markup(text)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def prepare(text: str) -> str:
    """A ``display_text`` made ready to fold: ligatures spelt out, wide punctuation spaced."""
    if not text.isascii():
        for old, new in _WIDE_REPLACEMENTS + _LATIN1_LIGATURES:
            if old in text:
                text = text.replace(old, new)
    return text


def fold_prepared(text: str, *, keep_case: bool = False) -> str:
    """Fold a ``prepare``d text: ASCII words separated by single spaces."""
    raw = text.encode("latin-1", "replace")  # what Latin-1 cannot hold becomes '?', a separator
    # The table leaves only letters, digits and spaces: squeezing the runs of spaces
    # gives what b" ".join(raw.split()) gives, without making an object of every word.
    return _SPACE_RUNS.sub(b" ", raw.translate(_fold_table(keep_case))).strip().decode("ascii")


@cache
def _marking_table(marks: str) -> bytes:
    table = bytearray(_fold_table(False))
    for mark in marks:
        table[ord(mark)] = 1
    return bytes(table)


def marked_words(prepared: str, marks: str) -> bytes:
    """A ``prepare``d text folded like ``fold_prepared``, each of ``marks`` kept as a word b"\x01".

    The other words are the folded text's words, one for one, so the position of
    a mark among them says after which word a sentence or clause ends.
    """
    raw = prepared.encode("latin-1", "replace").translate(_marking_table(marks))
    return b" ".join(raw.replace(b"\x01", b" \x01 ").split())


def fold(text: str, *, keep_case: bool = False) -> str:
    """Fold any text (HTML allowed) into lower-case ASCII words separated by one space."""
    return fold_prepared(prepare(display_text(text)), keep_case=keep_case)


def word_spans(display: str) -> list[tuple[int, int]]:
    """Start and end offsets in a ``display_text`` of each word of its folded form."""
    return [m.span() for m in _DISPLAY_WORD.finditer(display)]
