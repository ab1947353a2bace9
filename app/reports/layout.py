"""From PDF bytes to one text stream with layout markers and a map back to the drawn characters.

pdfminer interprets each page once (with the faster tokenizer of `content.py`) through a light
device that keeps characters as tuples and ruling lines as edges (pdfplumber's per-character
dictionaries would cost more than the parse itself).
Characters are assigned to table cells by the nearest ruling lines around them, grouped into
lines per cell (or per page for free text), and written out in reading order:

* inside a cell or paragraph, a line that runs to the right margin continues on the next line
  with no marker (so words, ID numbers and dates wrapped across lines are joined again);
* `CELL` separates table cells and wide gaps inside a line; `BREAK` ends rows and paragraphs.

Coordinates are pdfplumber's: points, origin at the top left of the page.
"""

from __future__ import annotations

import contextlib
import io
import re
from bisect import bisect_right
from dataclasses import dataclass, field

import pdfplumber
from pdfminer.layout import LTCurve, LTFigure, LTLine, LTRect
from pdfminer.pdfdocument import PDFEncryptionError
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

from .content import Collector, FastInterpreter, Resources
from .errors import ReportError
from .text import BREAK, CELL, SPACES, normalize_char, squeeze

PAGE_NUMBER_RE = re.compile(
    r"(?:第\d+页(?:/?共\d+页)?|共\d+页/?第\d+页|-?—?\d{1,3}-?—?|\d{1,3}/\d{1,3}|Page\d+(?:of\d+)?)"
)
MAX_EDGES = 4000  # a vector drawing (scene sketch) is not a table; don't let it slow lookups


@dataclass(slots=True)
class Cell:
    """A table cell or a segment of a free line, with its span in the stream."""

    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    start: int = 0
    end: int = 0


@dataclass(slots=True)
class Row:
    """A table row (`ruled`) or a line of free text, in reading order."""

    page: int
    top: float
    bottom: float
    ruled: bool
    cells: list[Cell] = field(default_factory=list)
    start: int = 0
    end: int = 0


@dataclass(slots=True)
class _Line:
    chars: list[int]
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    margins: tuple[float, float] | None = None  # left/right of its box; None: the page's


@dataclass(slots=True)
class _Item:
    """Something placed on a page in reading order: a free line or a table row of cells."""

    page: int
    top: float
    line: _Line | None = None  # free line
    cells: list[tuple[tuple[float, float, float, float], list[_Line]]] | None = None


@dataclass
class Layout:
    """The document as one normalised stream with a character map and its rows."""

    text: str
    src: list[int]
    boxes: list[tuple[int, float, float, float, float]]  # page, x0, top, x1, bottom per char
    rows: list[Row]
    page_sizes: list[tuple[float, float]]
    image_count: int
    scanned_pages: list[int]  # pages with images and no text

    def provenance(self, spans: list[tuple[int, int]]) -> dict | None:
        """{"page", "bbox"} of the characters in the spans (first page; more in "parts")."""
        by_page: dict[int, list[float]] = {}
        order: list[int] = []
        pieces: list[str] = []
        for start, end in sorted(spans):
            pieces.append(self.text[start:end])
            for pos in range(start, end):
                idx = self.src[pos]
                if idx < 0:
                    continue
                page, x0, top, x1, bottom = self.boxes[idx]
                box = by_page.get(page)
                if box is None:
                    by_page[page] = [x0, top, x1, bottom]
                    order.append(page)
                else:
                    box[0] = min(box[0], x0)
                    box[1] = min(box[1], top)
                    box[2] = max(box[2], x1)
                    box[3] = max(box[3], bottom)
        if not order:
            return None
        parts = [{"page": page, "bbox": _round_out(by_page[page])} for page in order]
        # The source text as drawn (no white space), line breaks kept, pieces apart by a space.
        text = " ".join(piece.replace(CELL, " ") for piece in pieces)
        result = {"page": parts[0]["page"], "bbox": parts[0]["bbox"], "text": text}
        if len(parts) > 1:
            result["parts"] = parts
        return result


def _round_out(box: list[float]) -> list[float]:
    # Rounded outwards so the box still holds every character of the value.
    return [
        _floor2(box[0]),
        _floor2(box[1]),
        -_floor2(-box[2]),
        -_floor2(-box[3]),
    ]


def _floor2(value: float) -> float:
    scaled = int(value * 100)
    if scaled > value * 100:
        scaled -= 1
    return scaled / 100


class _Grid:
    """Ruling lines of one page, to find the cell around a point."""

    def __init__(
        self, hedges: list[tuple[float, float, float]], vedges: list[tuple[float, float, float]]
    ) -> None:
        self.v = sorted(vedges)
        self.vx = [e[0] for e in self.v]
        self.h = sorted(hedges)
        self.hy = [e[0] for e in self.h]
        bands: list[list[float]] = []
        for _, y0, y1 in sorted(vedges, key=lambda e: e[1]):
            if bands and y0 <= bands[-1][1] + 1:
                bands[-1][1] = max(bands[-1][1], y1)
            else:
                bands.append([y0, y1])
        self.bands = bands
        self.last: tuple[float, float, float, float] | None = None

    def cell(self, x: float, y: float) -> tuple[float, float, float, float] | None:
        """The box of ruling lines around (x, y), or None outside any table."""
        last = self.last
        if last is not None and last[0] < x < last[2] and last[1] < y < last[3]:
            return last
        if not any(b0 <= y <= b1 for b0, b1 in self.bands):
            return None
        tol = 1.0
        left = right = top = bottom = None
        i = bisect_right(self.vx, x) - 1
        while i >= 0:
            ex, y0, y1 = self.v[i]
            if y0 - tol <= y <= y1 + tol:
                left = ex
                break
            i -= 1
        if left is None:
            return None
        i = bisect_right(self.vx, x)
        while i < len(self.v):
            ex, y0, y1 = self.v[i]
            if y0 - tol <= y <= y1 + tol:
                right = ex
                break
            i += 1
        if right is None:
            return None
        i = bisect_right(self.hy, y) - 1
        while i >= 0:
            ey, x0, x1 = self.h[i]
            if x0 - tol <= x <= x1 + tol:
                top = ey
                break
            i -= 1
        if top is None:
            return None
        i = bisect_right(self.hy, y)
        while i < len(self.h):
            ey, x0, x1 = self.h[i]
            if x0 - tol <= x <= x1 + tol:
                bottom = ey
                break
            i += 1
        if bottom is None:
            return None
        self.last = (left, top, right, bottom)
        return self.last


def _edges(
    objs: list, height: float, mb_x0: float, mb_top: float
) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """Horizontal (y, x0, x1) and vertical (x, top, bottom) ruling lines in top-left space."""
    hedges: list[tuple[float, float, float]] = []
    vedges: list[tuple[float, float, float]] = []

    def segment(xa: float, ya: float, xb: float, yb: float) -> None:
        """Keep a horizontal or vertical stroke as an edge."""
        if abs(ya - yb) < 1.0 and abs(xa - xb) >= 2.0:
            y = height - (ya + yb) / 2 + mb_top
            hedges.append((y, min(xa, xb) + mb_x0, max(xa, xb) + mb_x0))
        elif abs(xa - xb) < 1.0 and abs(ya - yb) >= 2.0:
            x = (xa + xb) / 2 + mb_x0
            vedges.append((x, height - max(ya, yb) + mb_top, height - min(ya, yb) + mb_top))

    stack = list(objs)
    while stack:
        obj = stack.pop()
        if isinstance(obj, LTFigure):
            stack.extend(obj._objs)
        elif isinstance(obj, LTRect):
            x0, y0, x1, y1 = obj.x0, obj.y0, obj.x1, obj.y1
            if y1 - y0 < 2.0:
                segment(x0, (y0 + y1) / 2, x1, (y0 + y1) / 2)
            elif x1 - x0 < 2.0:
                segment((x0 + x1) / 2, y0, (x0 + x1) / 2, y1)
            else:
                segment(x0, y0, x1, y0)
                segment(x0, y1, x1, y1)
                segment(x0, y0, x0, y1)
                segment(x1, y0, x1, y1)
        elif isinstance(obj, LTLine):
            (xa, ya), (xb, yb) = obj.pts[0], obj.pts[-1]
            segment(xa, ya, xb, yb)
        elif isinstance(obj, LTCurve) and len(obj.pts) <= 16:
            pts = obj.pts
            for (xa, ya), (xb, yb) in zip(pts, pts[1:], strict=False):
                segment(xa, ya, xb, yb)
        if len(hedges) + len(vedges) > MAX_EDGES:
            return [], []
    return hedges, vedges


def _lines(idxs: list[int], boxes: list, sizes: list[float], texts: list[str]) -> list[_Line]:
    """Group characters into lines by their vertical centre; each line sorted left to right."""
    idxs = sorted(idxs, key=lambda i: boxes[i][2] + boxes[i][4])
    lines: list[_Line] = []
    groups: list[list[int]] = []
    ref = -1e9
    tol = 0.0
    for i in idxs:
        mid = (boxes[i][2] + boxes[i][4]) / 2
        if groups and abs(mid - ref) <= tol:
            groups[-1].append(i)
        else:
            groups.append([i])
            ref = mid
            tol = max(sizes[i] * 0.45, 1.0)
    for group in groups:
        group.sort(key=lambda i: boxes[i][1])
        first = group[0]
        kept = [first]
        _, x0, top, x1, bottom = boxes[first]
        size = sizes[first]
        for i in group[1:]:
            prev = kept[-1]
            box = boxes[i]
            # Overprinted duplicates (fake bold: the same glyph shifted by a fraction of its
            # width) collapse into one character; "//" or "11" side by side stay two.
            if texts[i] == texts[prev] and abs(box[1] - boxes[prev][1]) < (box[3] - box[1]) * 0.5:
                continue
            kept.append(i)
            if box[2] < top:
                top = box[2]
            if box[3] > x1:
                x1 = box[3]
            if box[4] > bottom:
                bottom = box[4]
            if sizes[i] > size:
                size = sizes[i]
        lines.append(_Line(kept, x0, top, x1, bottom, size))
    lines.sort(key=lambda line: line.top)
    return lines


class _Writer:
    """Builds the stream, its character map and the rows."""

    def __init__(self, boxes: list, texts: list[str], sizes: list[float]) -> None:
        self.boxes = boxes
        self.texts = texts
        self.sizes = sizes
        self.out: list[str] = []
        self.src: list[int] = []
        self.rows: list[Row] = []

    def mark(self, marker: str) -> None:
        """Add a layout marker, never two in a row (a BREAK wins over a CELL)."""
        if self.out and self.out[-1] not in (CELL, BREAK):
            self.out.append(marker)
            self.src.append(-1)
        elif self.out and marker == BREAK and self.out[-1] == CELL:
            self.out[-1] = BREAK

    def line(self, line: _Line, page: int, cells: list[Cell] | None) -> None:
        """Write one line; wide gaps become CELL markers (and separate cells when collecting)."""
        boxes = self.boxes
        prev_x1 = None
        seg: Cell | None = None
        run = 0  # characters since the last gap
        for i in line.chars:
            norm = normalize_char(self.texts[i])
            if not norm:
                continue
            box = boxes[i]
            # A lone character before a gap is a label spread out to a column width
            # (姓　　名, 天　　气), not a cell of its own.
            if prev_x1 is not None and box[1] - prev_x1 > self.sizes[i] * 0.9 and run > 1:
                run = 0
                self.mark(CELL)
                if cells is not None and seg is not None:
                    seg.end = len(self.out) - 1
                    cells.append(seg)
                    seg = None
            if seg is None and cells is not None:
                seg = Cell(page, box[1], box[2], box[3], box[4], start=len(self.out))
            elif seg is not None:
                seg.x0 = min(seg.x0, box[1])
                seg.top = min(seg.top, box[2])
                seg.x1 = max(seg.x1, box[3])
                seg.bottom = max(seg.bottom, box[4])
            for ch in norm:
                self.out.append(ch)
                self.src.append(i)
            prev_x1 = box[3]
            run += 1
        if cells is not None and seg is not None:
            seg.end = len(self.out)
            cells.append(seg)


def _is_soft(line: _Line, nxt: _Line, left: float, right: float, *, free: bool) -> bool:
    """Whether `nxt` continues the text of `line` (a wrap), rather than starting anew."""
    size = line.size
    # A wrapped line stops short of the margin by up to one character (two with letter
    # spacing or a hanging punctuation mark on other lines).
    if line.x1 < right - 2.0 * size:
        return False
    if not free:
        return True
    return (
        line.x0 <= left + 2.5 * size
        and nxt.x0 <= left + 0.8 * size
        and abs(nxt.size - size) < 1.0
        and nxt.top - line.bottom < 1.2 * size
    )


def read_layout(data: bytes) -> Layout:
    """Parse the PDF once and build the stream; raises ReportError for unreadable files."""
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFEncryptionError):
            raise ReportError("encrypted", "the PDF needs a password") from exc
        raise ReportError("damaged", f"cannot open the PDF: {cause!r}"[:200]) from exc
    try:
        return _read(pdf)
    except (MemoryError, ReportError):
        raise  # out of memory is the isolation's business (too_large), not a damaged file
    except RecursionError as exc:
        raise ReportError("damaged", "content nested too deeply") from exc
    except Exception as exc:
        # pdfminer reports malformed files with its own errors and with assorted built-in
        # ones (KeyError, struct.error, zlib.error, AssertionError…): all mean "damaged".
        raise ReportError("damaged", f"malformed PDF content: {exc!r}"[:200]) from exc
    finally:
        # Closing walks the page tree again, which fails the same way on a broken file.
        with contextlib.suppress(PdfminerException, MalformedPDFException):
            pdf.close()


def _read(pdf: pdfplumber.PDF) -> Layout:
    resources = Resources()
    device = Collector(resources)
    interpreter = FastInterpreter(resources, device)
    boxes: list[tuple[int, float, float, float, float]] = []
    texts: list[str] = []
    sizes: list[float] = []
    page_items: list[list[_Item]] = []
    page_sizes: list[tuple[float, float]] = []
    images = 0
    page_images: list[int] = []
    for page in pdf.pages:
        number = page.page_number
        height = page.height
        width = page.width
        mb_x0, mb_top = page.mediabox[0], page.mediabox[1]
        page_sizes.append((width, height))
        interpreter.process_page(page.page_obj)
        images += device.images
        page_images.append(device.images)
        first = len(boxes)
        for x0, y0, x1, y1, text in device.chars:
            if text in SPACES or not text.strip():
                continue
            top = height - y1 + mb_top
            bottom = height - y0 + mb_top
            x0 += mb_x0
            x1 += mb_x0
            if x1 < 0 or x0 > width or bottom < 0 or top > height:
                continue  # off the page: never visible
            boxes.append((number, x0, top, x1, bottom))
            texts.append(text)
            sizes.append(bottom - top)
        hedges, vedges = _edges(device.cur_item._objs, height, mb_x0, mb_top)
        page_items.append(
            _page_items(
                number,
                range(first, len(boxes)),
                boxes,
                sizes,
                texts,
                hedges,
                vedges,
                width * height,
            )
        )
    _drop_running_heads(page_items, texts)
    scanned = [
        n + 1
        for n, items in enumerate(page_items)
        if page_images[n] and sum(_item_size(item) for item in items) < 12
    ]
    return _write(page_items, boxes, texts, sizes, page_sizes, images, scanned)


def _item_size(item: _Item) -> int:
    if item.line is not None:
        return len(item.line.chars)
    return sum(len(line.chars) for _, lines in item.cells or [] for line in lines)


def _drop_running_heads(page_items: list[list[_Item]], texts: list[str]) -> None:
    """Remove a line repeated at the top of each page (the unit's name, a form number)."""

    def head(items: list[_Item]) -> str | None:
        """The text of the page's first line, if it is free text."""
        if items and items[0].line is not None:
            return squeeze("".join(texts[i] for i in items[0].line.chars))
        return None

    for n in range(len(page_items) - 1, 0, -1):
        text = head(page_items[n])
        if text and text in (head(page_items[n - 1]), head(page_items[0])):
            del page_items[n][0]


def _page_items(
    number: int,
    idxs: range,
    boxes: list,
    sizes: list[float],
    texts: list[str],
    hedges: list,
    vedges: list,
    area: float,
) -> list[_Item]:
    """Free lines and table rows of one page, top to bottom."""
    free: list[int] = []
    cells: dict[tuple[float, float, float, float], list[int]] = {}
    if hedges and vedges:
        grid = _Grid(hedges, vedges)
        for i in idxs:
            box = boxes[i]
            # Probed left of centre: punctuation hanging past a cell's right rule (。，) still
            # belongs to the cell its line is in.
            cell = grid.cell(box[1] + (box[3] - box[1]) * 0.3, (box[2] + box[4]) / 2)
            if cell is None:
                free.append(i)
            else:
                cells.setdefault(cell, []).append(i)
    else:
        free = list(idxs)
    items = [_Item(number, line.top, line=line) for line in _lines(free, boxes, sizes, texts)]
    for key in list(cells):
        # A large box (a frame around the page, the space between a frame and a table, a
        # big form cell) is read as free text, line by line in page order, with the box's own
        # margins: its text may run on to the next page and must not be read as one block.
        if (key[2] - key[0]) * (key[3] - key[1]) > area * 0.15:
            lines = _lines(cells.pop(key), boxes, sizes, texts)
            margins = (min(line.x0 for line in lines), _right_margin(lines))
            for line in lines:
                line.margins = margins
                items.append(_Item(number, line.top, line=line))
    rows: dict[float, list] = {}
    for key in sorted(cells, key=lambda k: (k[1], k[0])):
        row_top = next((t for t in rows if abs(t - key[1]) < 2.0), key[1])
        rows.setdefault(row_top, []).append((key, _lines(cells[key], boxes, sizes, texts)))
    for row_top, row_cells in rows.items():
        row_cells.sort(key=lambda c: c[0][0])
        items.append(_Item(number, row_top, cells=row_cells))
    items.sort(key=lambda item: item.top)
    return _drop_page_numbers(items, boxes, texts)


def _drop_page_numbers(items: list[_Item], boxes: list, texts: list[str]) -> list[_Item]:
    """Remove running page numbers (第1页, - 2 -) from the top and bottom of a page."""
    kept = []
    for n, item in enumerate(items):
        if item.line is not None and (n == len(items) - 1 or n == 0) and len(item.line.chars) < 16:
            text = squeeze("".join(texts[i] for i in item.line.chars))
            if PAGE_NUMBER_RE.fullmatch(text):
                continue
        kept.append(item)
    return kept


def _same_margins(a: _Line, b: _Line) -> bool:
    """Whether two lines belong to the same text column (the page's, or a box's)."""
    if a.margins is None or b.margins is None:
        return a.margins is b.margins
    tolerance = 2 * a.size
    return (
        abs(a.margins[0] - b.margins[0]) < tolerance
        and abs(a.margins[1] - b.margins[1]) < tolerance
    )


def _right_margin(lines: list[_Line]) -> float:
    """Where full lines end: the median end of the lines near the rightmost one.

    Lines that end with hanging punctuation (。）) stick out past the margin; the median of
    the cluster of long lines is not moved by a few of them.
    """
    if not lines:
        return 0.0
    far = max(line.x1 for line in lines)
    near = sorted(line.x1 for line in lines if line.x1 >= far - 4 * line.size)
    return near[len(near) // 2]


def _write(
    page_items: list[list[_Item]],
    boxes: list,
    texts: list[str],
    sizes: list[float],
    page_sizes: list[tuple[float, float]],
    images: int,
    scanned: list[int],
) -> Layout:
    free_lines = [
        item.line
        for items in page_items
        for item in items
        if item.line is not None and item.line.margins is None and len(item.line.chars) >= 5
    ]
    left = min((line.x0 for line in free_lines), default=0.0)
    right = _right_margin(free_lines)
    writer = _Writer(boxes, texts, sizes)
    prev_line: _Line | None = None
    for items in page_items:
        for item in items:
            if item.line is not None:
                line = item.line
                if prev_line is not None:
                    line_left, line_right = prev_line.margins or (left, right)
                    if not _same_margins(prev_line, line) or not _is_soft(
                        prev_line, line, line_left, line_right, free=True
                    ):
                        writer.mark(BREAK)
                elif writer.out:
                    writer.mark(BREAK)
                row = Row(item.page, line.top, line.bottom, ruled=False, start=len(writer.out))
                writer.line(line, item.page, row.cells)
                row.end = len(writer.out)
                if row.cells:
                    writer.rows.append(row)
                prev_line = line
                continue
            prev_line = None
            writer.mark(BREAK)
            row = Row(item.page, item.top, item.top, ruled=True, start=len(writer.out))
            for (x0, top, x1, bottom), lines in item.cells or []:
                writer.mark(CELL)
                cell = Cell(item.page, x0, top, x1, bottom, start=len(writer.out))
                cell_left = min(line.x0 for line in lines)
                cell_right = _right_margin(lines)
                for k, line in enumerate(lines):
                    if k and not _is_soft(lines[k - 1], line, cell_left, cell_right, free=False):
                        writer.mark(BREAK)
                    writer.line(line, item.page, None)
                cell.end = len(writer.out)
                row.bottom = max(row.bottom, bottom)
                if cell.end > cell.start:
                    row.cells.append(cell)
            row.end = len(writer.out)
            if row.cells:
                writer.rows.append(row)
            writer.mark(BREAK)
    return Layout(
        text="".join(writer.out),
        src=writer.src,
        boxes=boxes,
        rows=writer.rows,
        page_sizes=page_sizes,
        image_count=images,
        scanned_pages=scanned,
    )
