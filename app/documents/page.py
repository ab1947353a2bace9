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
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer


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


def paragraph(text: Any, style: ParagraphStyle) -> Paragraph:
    """`text` as a paragraph, escaped; a dash when there is none."""
    return Paragraph(escape("—" if text in (None, "") else str(text)), style)


def masthead(s: Styles, title: str, *lines: str) -> list[Flowable]:
    """The document's title with its number lines aligned right below it."""
    return [
        paragraph(title, s.title),
        *(paragraph(line, s.number) for line in lines),
        Spacer(1, 3 * mm),
    ]


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
