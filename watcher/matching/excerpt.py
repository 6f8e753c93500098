"""Cutting an excerpt of about 200 characters of the original text around a hit."""

from dataclasses import dataclass

from watcher.matching.normalize import word_spans

EXCERPT_CHARS = 200
_ELLIPSIS = "…"


@dataclass(frozen=True)
class Excerpt:
    """Plain text, with the hit at ``text[hit_start:hit_end]`` for renderers to mark."""

    text: str
    hit_start: int
    hit_end: int

    def marked(self, before: str = "«", after: str = "»") -> str:
        """The excerpt with the hit between two markers, for plain-text output."""
        return (
            self.text[: self.hit_start]
            + before
            + self.text[self.hit_start : self.hit_end]
            + after
            + self.text[self.hit_end :]
        )


def cut_excerpt(text: str, first_word: int, last_word: int, size: int = EXCERPT_CHARS) -> Excerpt:
    """About ``size`` characters of ``text`` around its words ``first_word..last_word``.

    The excerpt starts and ends on word boundaries and has its white space folded.
    """
    spans = word_spans(text)
    if not spans:
        return Excerpt(" ".join(text.split())[:size], 0, 0)
    first_word = min(first_word, len(spans) - 1)
    last_word = min(max(last_word, first_word), len(spans) - 1)
    hit_start, hit_end = spans[first_word][0], spans[last_word][1]
    room = max(size - (hit_end - hit_start), 0)
    start = max(0, hit_start - room * 2 // 5)
    end = min(len(text), hit_end + room - (hit_start - start))
    start = max(0, min(start, end - size))
    # Move the cut to the nearest word boundary outside the hit.
    if start > 0:
        start = next((s for s, _ in spans if s >= start), hit_start)
        start = min(start, hit_start)
    if end < len(text):
        end = max((e for _, e in spans if e <= end), default=hit_end)
        end = max(end, hit_end)
    prefix = _ELLIPSIS if start > 0 else ""
    suffix = _ELLIPSIS if end < len(text) else ""
    before = " ".join(text[start:hit_start].split())
    hit = " ".join(text[hit_start:hit_end].split())
    after = " ".join(text[hit_end:end].split())
    head = prefix + before + (" " if before and text[hit_start - 1].isspace() else "")
    tail = (" " if after and text[hit_end].isspace() else "") + after + suffix
    return Excerpt(head + hit + tail, len(head), len(head) + len(hit))
