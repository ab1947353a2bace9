"""What a letter's pages hold, the same for a text layer and for a scan read by OCR.

Readers (`textlayer.read_text_layer` for PDFs with text, `ocr.read_scan` for scans) turn a PDF
into `Page`s; the grammar (`letters.read_letter`) reads fields from them and never looks at the
PDF again. Coordinates are pdfplumber's: PDF points, origin at the top left of the page, pages
numbered from 1. Every glyph keeps its box so that each field can point at what it was read from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Box = tuple[float, float, float, float]  # x0, top, x1, bottom


@dataclass(slots=True)
class Glyph:
    """One character as the matcher sees it (normalised, never whitespace) and where it is."""

    text: str
    page: int
    bbox: Box
    conf: float | None = None  # OCR recognition confidence (0–1); None for a text layer


@dataclass(slots=True)
class Line:
    """A line of text in reading order, left to right."""

    glyphs: list[Glyph]
    page: int
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def text(self) -> str:
        """The normalised characters of the line, without whitespace."""
        return "".join(glyph.text for glyph in self.glyphs)


@dataclass(slots=True)
class Cell:
    """A table cell and the lines inside it (top to bottom)."""

    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The cell's characters, lines joined without a separator."""
        return "".join(line.text for line in self.lines)


@dataclass(slots=True)
class Table:
    """A ruled table: rows of cells, `None` where a merged cell spans (as pdfplumber gives)."""

    page: int
    bbox: Box
    rows: list[list[Cell | None]]


@dataclass(slots=True)
class Page:
    """One page: its free lines (outside tables) in reading order and its tables."""

    number: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    image_count: int = 0
