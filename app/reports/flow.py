"""From pages to the letter's reading order: paragraphs of free text and tables, page furniture
(page numbers, running heads) removed before the pages are joined."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .pages import Line, Page, Table
from .spans import Span

# Page furniture as it reaches us, whitespace removed: 第1页 共2页, 第1页，共2页, 第 1 页, - 1 -,
# 1/2, Page 1 of 2.
PAGE_NUMBER_RE = re.compile(
    r"(?:第\d{1,3}页(?:[,，/]?共\d{1,3}页)?|共\d{1,3}页[,，/]?第\d{1,3}页|[-—–]\d{1,3}[-—–]"
    r"|\d{1,3}/\d{1,3}|\d{1,3}|Page\d{1,3}(?:of\d{1,3})?)"
)


@dataclass(slots=True)
class Paragraph:
    """Consecutive lines of one paragraph (possibly across a page break)."""

    lines: list[Line] = field(default_factory=list)

    @property
    def span(self) -> Span:
        """The paragraph's text, lines joined without a separator."""
        return Span.of_lines(self.lines)

    @property
    def text(self) -> str:
        """The paragraph's characters."""
        return "".join(line.text for line in self.lines)


Block = Paragraph | Table
ENDS = frozenset("。；;！？!?")


def merge_lines(lines: list[Line]) -> list[Line]:
    """Boxes on one visual line (OCR gives one per word group) merged, in reading order."""
    merged: list[Line] = []
    for line in sorted(lines, key=lambda ln: (ln.page, ln.top, ln.x0)):
        height = max(line.bottom - line.top, 1.0)
        for other in reversed(merged[-3:]):
            other_height = max(other.bottom - other.top, 1.0)
            centre, other_centre = (line.top + line.bottom) / 2, (other.top + other.bottom) / 2
            if (
                other.page == line.page
                and abs(centre - other_centre) < min(height, other_height) * 0.5
            ):
                glyphs = sorted(other.glyphs + line.glyphs, key=lambda g: g.bbox[0])
                other.glyphs = glyphs
                other.x0, other.x1 = min(other.x0, line.x0), max(other.x1, line.x1)
                other.top, other.bottom = min(other.top, line.top), max(other.bottom, line.bottom)
                break
        else:
            merged.append(
                Line(list(line.glyphs), line.page, line.x0, line.top, line.x1, line.bottom)
            )
    return sorted(merged, key=lambda ln: (ln.page, ln.top, ln.x0))


def _furniture(page: Page, lines: list[Line], heads: set[str]) -> set[int]:
    """Indexes of page-number lines at the foot (or head) of the page and repeated running heads."""
    drop: set[int] = set()
    if not lines:
        return drop
    content_bottom = max([ln.bottom for ln in lines] + [t.bbox[3] for t in page.tables], default=0)
    for index in range(len(lines) - 1, max(len(lines) - 3, -1), -1):
        line = lines[index]
        if PAGE_NUMBER_RE.fullmatch(line.text) and line.bottom >= content_bottom - 40:
            drop.add(index)
    first = lines[0]
    if PAGE_NUMBER_RE.fullmatch(first.text) and page.number > 1:
        drop.add(0)
    if page.number > 1 and first.text in heads:
        drop.add(0)
    return drop


def blocks(
    pages: list[Page], is_heading: Callable[[str], bool], is_lead: Callable[[str], bool]
) -> list[Block]:
    """Paragraphs and tables of the whole letter in reading order, furniture removed.

    A paragraph starts at an indented or centred line, after a short line or a wide gap, and at
    every line `is_heading` recognises; a line at the top of a page continues the paragraph the
    last page left open unless one of those says otherwise. A line `is_lead` recognises (a party
    paragraph's unmistakable start, `甲方：`) always starts one.
    """
    per_page = [merge_lines(page.lines) for page in pages]
    heads = {lines[0].text for lines in per_page[:1] if lines}
    # A running head repeats at the top of every page; on page 1 it is also the letter's own
    # first line, so it is only dropped from the later pages.
    tops = Counter(lines[0].text for lines in per_page if lines)
    heads = {text for text in heads if tops[text] > 1}
    out: list[Block] = []
    current: Paragraph | None = None
    previous: Line | None = None
    short = True
    for page, lines in zip(pages, per_page, strict=True):
        drop = _furniture(page, lines, heads)
        kept = [line for n, line in enumerate(lines) if n not in drop]
        margin, right, pitch = _margins(kept)
        local = _local_margins(kept, margin, right)
        items: list[tuple[float, int, Line | Table]] = [(ln.top, 0, ln) for ln in kept]
        items += [(t.bbox[1], 1, t) for t in page.tables]
        for _, kind, item in sorted(items, key=lambda it: (it[0], it[1])):
            if kind == 1:
                out.append(item)
                current, previous = None, None
                continue
            line = item
            if (
                current is None
                or is_heading(line.text)
                or _starts_paragraph(line, previous, (*local[id(line)], pitch), short)
                or is_lead(line.text)
            ):
                current = Paragraph()
                out.append(current)
            current.lines.append(line)
            previous = line
        if previous is not None and id(previous) in local:
            short = _is_short(previous, local[id(previous)][1])
    return out


def _local_margins(
    lines: list[Line], margin: float, right: float, reach: int = 4
) -> dict[int, tuple[float, float]]:
    """Each line's left and right margins among its neighbours.

    A scan turned by a degree shifts the margins by a point or more every line down the page, so
    a line's indent is judged against the lines around it, not against the page as a whole.
    """
    out = {}
    for n, line in enumerate(lines):
        near = lines[max(0, n - reach) : n + reach + 1]
        left = min(other.x0 for other in near)
        edge = max(other.x1 for other in near)
        # A window of indented or short lines alone says nothing; the page's margins do.
        out[id(line)] = (left if left <= margin + 12 else margin, max(edge, right - 12))
    return out


def _margins(lines: list[Line]) -> tuple[float, float, float]:
    """The page's left text margin (the most common line start), its right edge (the most common
    end among long lines) and its line pitch (the most common distance between lines)."""
    if not lines:
        return 0.0, 0.0, 0.0
    starts = Counter(round(line.x0 / 3) for line in lines)
    margin = starts.most_common(1)[0][0] * 3
    margin = min((line.x0 for line in lines if abs(line.x0 - margin) <= 3), default=margin)
    ends = Counter(round(line.x1 / 3) for line in lines if line.x1 - line.x0 > 200)
    right = ends.most_common(1)[0][0] * 3 if ends else max(line.x1 for line in lines)
    right = max((line.x1 for line in lines if abs(line.x1 - right) <= 3), default=right)
    steps = Counter(
        round(b.top - a.top)
        for a, b in zip(lines, lines[1:], strict=False)
        if 0 < b.top - a.top < 80
    )
    pitch = float(steps.most_common(1)[0][0]) if steps else 0.0
    return margin, right, pitch


def _is_short(line: Line, right: float) -> bool:
    # A short line ends its paragraph only when it ends a sentence or a heading: ragged-right
    # text also leaves a line short before a long number that did not fit.
    return line.x1 < right - max(line.bottom - line.top, 4.0) * 1.8 and line.text[-1:] in ENDS


def _starts_paragraph(
    line: Line, previous: Line | None, page: tuple[float, float, float], short_before: bool
) -> bool:
    margin, right, pitch = page
    height = max(line.bottom - line.top, 4.0)
    if line.x0 > margin + height * 0.6:  # indented first line, or a centred one
        return True
    if previous is None:
        return True
    if previous.page != line.page:  # the top of a page: did the last page end a paragraph?
        return short_before
    if pitch and line.top - previous.top > pitch * 1.6:
        return True  # a gap wider than the line spacing
    return _is_short(previous, right)
