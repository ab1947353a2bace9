"""Text that remembers where each character was drawn, and provenance made from it."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from .pages import Glyph, Line


class Span:
    """A run of normalised characters, each with its glyph (None for an inserted separator)."""

    __slots__ = ("glyphs", "text")

    def __init__(self, text: str = "", glyphs: list[Glyph | None] | None = None) -> None:
        self.text = text
        self.glyphs = glyphs if glyphs is not None else [None] * len(text)

    @classmethod
    def of_lines(cls, lines: Iterable[Line], sep: str = "") -> Span:
        """The lines joined by `sep` (a separator has no glyph)."""
        text: list[str] = []
        glyphs: list[Glyph | None] = []
        for n, line in enumerate(lines):
            if n and sep:
                text.append(sep)
                glyphs.extend([None] * len(sep))
            for glyph in line.glyphs:
                text.append(glyph.text)
                glyphs.extend([glyph] * len(glyph.text))
        return cls("".join(text), glyphs)

    @classmethod
    def join(cls, spans: Iterable[Span], sep: str = "") -> Span:
        """The spans joined by `sep`."""
        text: list[str] = []
        glyphs: list[Glyph | None] = []
        for n, span in enumerate(spans):
            if n and sep:
                text.append(sep)
                glyphs.extend([None] * len(sep))
            text.append(span.text)
            glyphs.extend(span.glyphs)
        return cls("".join(text), glyphs)

    def __len__(self) -> int:
        return len(self.text)

    def __bool__(self) -> bool:
        return bool(self.text)

    def __getitem__(self, key: slice) -> Span:
        return Span(self.text[key], self.glyphs[key])

    def __repr__(self) -> str:
        return f"Span({self.text!r})"

    def strip(self, chars: str = "：:，,。；;、 \n") -> Span:
        """Without the given characters at either end."""
        start, end = 0, len(self.text)
        while start < end and self.text[start] in chars:
            start += 1
        while end > start and self.text[end - 1] in chars:
            end -= 1
        return self[start:end]

    def without(self, regex: re.Pattern, group: int | str = 1) -> Span:
        """This span with the characters of `group` of every match of `regex` taken out."""
        drop: set[int] = set()
        for match in regex.finditer(self.text):
            drop.update(range(match.start(group), match.end(group)))
        if not drop:
            return self
        keep = [i for i in range(len(self.text)) if i not in drop]
        return Span("".join(self.text[i] for i in keep), [self.glyphs[i] for i in keep])

    def match_span(self, match: re.Match, group: int | str = 0) -> Span:
        """The part of this span a regex match (on `self.text`) covers."""
        return self[match.start(group) : match.end(group)]

    def confidence(self) -> float | None:
        """The lowest OCR confidence of its characters; None for a text layer."""
        values = [g.conf for g in self.glyphs if g is not None and g.conf is not None]
        return min(values) if values else None

    def provenance(self) -> dict | None:
        """Page and box of the characters (per page in `parts` when it spans pages)."""
        pages: dict[int, list[float]] = {}
        pieces: list[str] = []
        previous: Glyph | None = None
        for glyph in self.glyphs:
            if glyph is None or glyph is previous:
                continue
            x0, top, x1, bottom = glyph.bbox
            box = pages.get(glyph.page)
            if box is None:
                pages[glyph.page] = [x0, top, x1, bottom]
            else:
                box[0], box[1] = min(box[0], x0), min(box[1], top)
                box[2], box[3] = max(box[2], x1), max(box[3], bottom)
            new_line = (
                previous is None
                or previous.page != glyph.page
                or glyph.bbox[1] >= previous.bbox[3] - 0.5
                or glyph.bbox[0] < previous.bbox[0] - 1
                or glyph.bbox[0] - previous.bbox[2] > (glyph.bbox[3] - glyph.bbox[1]) * 0.6
            )
            if new_line:
                pieces.append(glyph.text)
            else:
                pieces[-1] += glyph.text
            previous = glyph
        if not pages:
            return None
        parts = [{"page": page, "bbox": _outward(box)} for page, box in pages.items()]
        out = {**parts[0], "text": " ".join(pieces)}
        if len(parts) > 1:
            out["parts"] = parts
        return out


def _outward(box: list[float]) -> list[float]:
    """The box rounded to 0.01 pt without cutting into the characters it holds."""
    return [
        math.floor(box[0] * 100) / 100,
        math.floor(box[1] * 100) / 100,
        math.ceil(box[2] * 100) / 100,
        math.ceil(box[3] * 100) / 100,
    ]
