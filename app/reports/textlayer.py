"""Read a PDF's text layer into pages of lines and tables, with pdfplumber.

pdfplumber (over pdfminer.six) does all the PDF work: characters with their boxes, lines of text
(`extract_text_lines`) and ruled tables (`find_tables`). This module only sorts what it gives into
`Page`s: the characters inside a table go to its cells, the rest to free lines, every character
normalised (`text.normalize`) and kept with its box.
"""

from __future__ import annotations

import io
import logging

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

from .errors import ReportError
from .pages import Cell, Glyph, Line, Page, Table
from .text import normalize

MAX_PAGES = 20  # an accident letter has one to four pages; more is another kind of document
# A drawing (a scene sketch) is not a table: past this many edges on a page, look for none.
MAX_EDGES = 2000
SLACK = 3.0  # points a character may stick out of its table cell and still belong to it

# Chromium's PDFs make pdfminer log a warning per font (no FontBBox); the text is fine.
logging.getLogger("pdfminer").setLevel(logging.ERROR)


def read_text_layer(data: bytes) -> list[Page]:
    """The pages of `data` as lines and tables; raises ReportError for an unreadable PDF."""
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise ReportError(
                    "too_large", f"the file has {len(pdf.pages)} pages (at most {MAX_PAGES})"
                )
            return [_page(page, number) for number, page in enumerate(pdf.pages, 1)]
    except PDFEncryptionError as exc:
        raise ReportError("encrypted", "the PDF needs a password") from exc
    except (MalformedPDFException, PdfminerException) as exc:
        # pdfplumber wraps pdfminer's errors with the original as the argument.
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        if isinstance(cause, MemoryError):
            raise MemoryError from exc  # the isolation turns it into too_large
        if isinstance(cause, PDFEncryptionError):
            raise ReportError("encrypted", "the PDF needs a password") from exc
        raise ReportError("damaged", f"cannot read the PDF: {exc}"[:200]) from exc


def _page(page: pdfplumber.page.Page, number: int) -> Page:
    out = Page(number=number, width=float(page.width), height=float(page.height))
    out.image_count = len(page.images)
    tables = []
    if len(page.edges) <= MAX_EDGES:
        tables = [table for table in page.find_tables() if _is_table(table)]
    boxes = [_grow(table.bbox, SLACK) for table in tables]

    def outside(obj: dict) -> bool:
        return obj.get("object_type") != "char" or not any(_inside(obj, box) for box in boxes)

    free = page.filter(outside) if boxes else page
    for found in free.extract_text_lines(return_chars=True, strip=True):
        line = _line(found["chars"], number)
        if line is not None:
            out.lines.append(line)
    for table in tables:
        out.tables.append(_table(page, table, number))
    return out


def _is_table(table: pdfplumber.table.Table) -> bool:
    # A frame drawn around the page or a boxed paragraph is one cell, not a form.
    return len(table.rows) >= 2 and any(
        sum(cell is not None for cell in row.cells) >= 2 for row in table.rows
    )


def _grow(box: tuple, by: float) -> tuple:
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


def _distance(char: dict, box: tuple) -> float:
    """How far the centre of `char` lies outside `box` (0 inside)."""
    x = (char["x0"] + char["x1"]) / 2
    y = (char["top"] + char["bottom"]) / 2
    return max(box[0] - x, 0, x - box[2]) + max(box[1] - y, 0, y - box[3])


def _inside(char: dict, box: tuple) -> bool:
    x = (char["x0"] + char["x1"]) / 2
    y = (char["top"] + char["bottom"]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _line(chars: list[dict], page: int) -> Line | None:
    glyphs = []
    for char in chars:
        if not char.get("upright", True):
            continue  # rotated or mirrored text (a stamp, a watermark) is never a field
        text = normalize(char["text"])
        if not text or text == "\ufffd":
            continue
        glyphs.append(Glyph(text, page, (char["x0"], char["top"], char["x1"], char["bottom"])))
    if not glyphs:
        return None
    return Line(
        glyphs=glyphs,
        page=page,
        x0=min(g.bbox[0] for g in glyphs),
        top=min(g.bbox[1] for g in glyphs),
        x1=max(g.bbox[2] for g in glyphs),
        bottom=max(g.bbox[3] for g in glyphs),
    )


def _table(page: pdfplumber.page.Page, table: pdfplumber.table.Table, number: int) -> Table:
    rows: list[list[Cell | None]] = []
    boxes = [box for row in table.rows for box in row.cells if box is not None]
    # Each character goes to the cell around its centre, or to the nearest one when it sticks
    # out of the grid by a little (a full stop set past a cell's border).
    members: dict[tuple, list[dict]] = {box: [] for box in boxes}
    for char in page.chars:
        if not _inside(char, _grow(table.bbox, SLACK)):
            continue
        best = min(boxes, key=lambda box: _distance(char, box))
        if _distance(char, best) <= SLACK:
            members[best].append(char)
    for row in table.rows:
        cells: list[Cell | None] = []
        for box in row.cells:
            if box is None:
                cells.append(None)
                continue
            cell = Cell(page=number, x0=box[0], top=box[1], x1=box[2], bottom=box[3])
            for group in _cluster_lines(members[box]):
                line = _line(group, number)
                if line is not None:
                    cell.lines.append(line)
            cells.append(cell)
        rows.append(cells)
    return Table(page=number, bbox=tuple(table.bbox), rows=rows)


def _cluster_lines(chars: list[dict]) -> list[list[dict]]:
    """Characters grouped into lines (top to bottom), each line left to right."""
    lines: list[list[dict]] = []
    for char in sorted(chars, key=lambda c: (c["top"], c["x0"])):
        height = char["bottom"] - char["top"]
        if lines and abs(lines[-1][0]["top"] - char["top"]) <= max(1.0, height * 0.5):
            lines[-1].append(char)
        else:
            lines.append([char])
    return [sorted(line, key=lambda c: c["x0"]) for line in lines]
