"""The page every document shares: A4 with the CJK font, the paragraph styles, the masthead,
and the footer that prints the document's number, the page count and the SHA-256 of its data
on every page."""

from __future__ import annotations

import hashlib
import json
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)


def canonical_json_sha256(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of `data` (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _register_font(font_path: str) -> str:
    """Register the CJK TrueType font once per process (a .ttc: its first face)."""
    name = "DaojiaoCJK-" + hashlib.sha256(font_path.encode()).hexdigest()[:12]
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, font_path, subfontIndex=0))
    return name


class Styles:
    """The paragraph styles of a document, all in the CJK font at `font_path`."""

    def __init__(self, font_path: str) -> None:
        self.font = _register_font(font_path)
        base = {"fontName": self.font, "wordWrap": "CJK"}
        self.title = ParagraphStyle(
            "title", **base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4
        )
        self.number = ParagraphStyle("number", **base, fontSize=10, leading=14, alignment=TA_RIGHT)
        self.heading = ParagraphStyle(
            "heading",
            **base,
            fontSize=12,
            leading=18,
            spaceBefore=8,
            spaceAfter=3,
            keepWithNext=1,
        )
        self.body = ParagraphStyle("body", **base, fontSize=10.5, leading=16, firstLineIndent=21)
        self.plain = ParagraphStyle("plain", **base, fontSize=10.5, leading=16)
        self.cell = ParagraphStyle("cell", **base, fontSize=9, leading=12)
        self.cell_right = ParagraphStyle("cell_right", parent=self.cell, alignment=TA_RIGHT)
        self.small = ParagraphStyle("small", **base, fontSize=8, leading=10)
        self.seal = ParagraphStyle(
            "seal", **base, fontSize=9, leading=12, alignment=TA_CENTER, textColor=colors.grey
        )


# Line-breaking rules (禁则; GB/T 15834-2011 标点符号用法, W3C "Requirements for Chinese Text
# Layout"): closing punctuation never starts a line, an opening bracket or a currency sign never
# ends one.
CANNOT_START = frozenset("。，、；：？！．…‥·・）］｝〕〉》」』】〗〙〛’”%‰℃°′″!),.:;?]}")
CANNOT_END = frozenset("（［｛〔〈《「『【〖〘〚‘“([{¥￥$£")
_FUZZ = 1e-6


def _is_word_char(char: str) -> bool:
    """A Latin letter, digit or the marks inside a figure or a code (114,318.37; DJ-2024-01)."""
    return char.isascii() and (char.isalnum() or char in ".,-/:_%*#")


def _may_break(text: str, at: int, *, inside_words: bool) -> bool:
    """May a line end before `text[at]`? Never against `CANNOT_START` or `CANNOT_END`, and
    inside a figure or a Latin word only when `inside_words`."""
    if text[at] in CANNOT_START or text[at - 1] in CANNOT_END:
        return False
    return inside_words or not (_is_word_char(text[at - 1]) and _is_word_char(text[at]))


def break_lines(text: str, widths: list[float], max_widths: list[float]) -> list[tuple[float, str]]:
    """Split `text` (each character `widths[i]` wide) into lines of at most `max_widths[n]`
    (the last width for the lines after), as (unused width, line) pairs.

    A line holds as many characters as fit, then gives back characters to the next line until
    the break obeys the rules (`CANNOT_START`, `CANNOT_END`, no break inside a figure); a figure
    longer than the line is broken inside, and a line that cannot break by the rules at all
    breaks where it is full."""
    lines: list[tuple[float, str]] = []
    start, length = 0, len(text)
    while start < length:
        max_width = max_widths[min(len(lines), len(max_widths) - 1)]
        end, used = start, 0.0
        while end < length and (end == start or used + widths[end] <= max_width + _FUZZ):
            used += widths[end]
            end += 1
        if end < length:
            cut = next(
                (
                    at
                    for inside_words in (False, True)
                    for at in range(end, start, -1)
                    if _may_break(text, at, inside_words=inside_words)
                ),
                end,
            )
            used -= sum(widths[cut:end])
            end = cut
        lines.append((max_width - used, text[start:end].rstrip(" ")))
        start = end
        while start < length and text[start] == " ":
            start += 1
    return lines


class CJKParagraph(Paragraph):
    """A paragraph of one font whose lines break by the Chinese rules (`break_lines`);
    reportlab's own CJK wrapping lets a second closing mark start a line and ignores the
    opening brackets."""

    def breakLinesCJK(self, maxWidths: Any) -> Any:  # noqa: N802, N803 - reportlab's names
        frags = self.frags
        if len(frags) != 1 or hasattr(frags[0], "cbDefn") or getattr(self, "_splitpara", 0):
            return super().breakLinesCJK(maxWidths)
        frag = frags[0]
        text = frag.text if hasattr(frag, "text") else "".join(getattr(frag, "words", []))
        widths = [stringWidth(char, frag.fontName, frag.fontSize) for char in text]
        limits = list(maxWidths) if isinstance(maxWidths, list | tuple) else [maxWidths]
        lines = break_lines(text, widths, limits)
        return frag.clone(
            kind=0,
            lines=[(space, [line]) for space, line in lines],
            ascent=frag.fontSize,
            descent=-0.2 * frag.fontSize,
        )


def paragraph(text: Any, style: ParagraphStyle) -> Paragraph:
    """`text` as a paragraph, escaped, its lines broken by the Chinese rules; a dash when there
    is none."""
    return CJKParagraph(escape("—" if text in (None, "") else str(text)), style)


def masthead(s: Styles, title: str, *lines: str) -> list[Flowable]:
    """The document's title with its number lines aligned right below it."""
    return [
        paragraph(title, s.title),
        *(paragraph(line, s.number) for line in lines),
        Spacer(1, 3 * mm),
    ]


def copy_notice(s: Styles) -> list[Flowable]:
    """The boxed notice at the top of a copy (副本): made from the original's data, ID numbers
    partly hidden; the footer names the original's data."""
    box = Table(
        [
            [
                paragraph(
                    "副本：本件依据原件的数据制作，公民身份号码已部分隐去；原件数据的 SHA-256 "
                    "见页脚，以原件为准。",
                    s.cell,
                )
            ]
        ],
        colWidths=[170 * mm],
    )
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.8, colors.grey)]))
    return [box, Spacer(1, 3 * mm)]


def render(
    flow: list[Flowable],
    s: Styles,
    *,
    title: str,
    number: str,
    sha256: str,
    data_label: str,
    number_label: str = "案号",
    author: str | None = None,
) -> bytes:
    """The A4 PDF of `flow`; its footer names `number` and the data's `sha256` on every page.

    Invariant: the same flow gives the same bytes (no creation time, no random ids).
    """
    buffer = BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=26 * mm,
        title=title,
        subject=f"{number} SHA-256 {sha256}",
        author=author,
        creator="Daojiao",
        invariant=1,
    ).build(
        flow,
        canvasmaker=_numbered_canvas(
            s.font, number, sha256, number_label=number_label, data_label=data_label
        ),
    )
    return buffer.getvalue()


def _numbered_canvas(
    font: str, number: str, sha256: str, *, number_label: str, data_label: str
) -> type[Canvas]:
    """A canvas that prints the footer on every page once the page count is known."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            count = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(count)
                super().showPage()
            super().save()

        def _footer(self, count: int) -> None:
            width, _height = self._pagesize
            self.saveState()
            self.setFont(font, 7.5)
            self.setStrokeColor(colors.grey)
            self.line(20 * mm, 19 * mm, width - 20 * mm, 19 * mm)
            self.drawString(20 * mm, 15 * mm, f"{number_label}：{number}")
            self.drawRightString(width - 20 * mm, 15 * mm, f"第 {self._pageNumber}/{count} 页")
            self.drawString(20 * mm, 11 * mm, f"{data_label}数据 SHA-256: {sha256}")
            self.restoreState()

    return NumberedCanvas
