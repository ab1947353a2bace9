"""Read a scanned letter (a PDF whose pages are only images) into `Page`s by OCR.

Each page is rendered at 200 dpi, straightened (scans come rotated by a degree or two) and read
by RapidOCR, whose wheel ships the PP-OCR detection and recognition models (nothing is fetched).
Seals are found by their colour, or in a grey scan by their ring, and their light strokes are
cleared before recognition; a recognised line much fainter than the page's print (a seal's text,
a signature) is dropped. Ruled tables are found from the long dark strokes of the straightened
image and cut into cells by pdfplumber's own table finder, so that they have the shape
`extract_tables()` gives for a text layer; every OCR line goes into the cell that holds it,
split where it crosses a rule. A character's box is where the recogniser's CTC output put it.

Coordinates: every box (glyph, line, cell, table) is measured on the straightened image, then
moved so that its centre lands where that point lies on the page as scanned; its size is kept.
Glyph boxes so fall on their characters; a long line or cell, being upright while the print is
tilted, leaves the print at its ends by half its width times the sine of the skew. Reading
order is decided on the straightened image.

OpenCV, numpy and onnxruntime are imported on first use: a process that imports this module and
then forks isolated parsers must not have started their threads.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pdfplumber.table import (
    DEFAULT_JOIN_TOLERANCE,
    DEFAULT_SNAP_TOLERANCE,
    cells_to_tables,
    edges_to_intersections,
    intersections_to_cells,
    merge_edges,
)

from .errors import ReportError
from .isolation import extend_limits
from .pages import Box, Cell, Glyph, Line, Page, Table
from .text import normalize

if TYPE_CHECKING:
    import numpy as np
    import pypdfium2
    from rapidocr_onnxruntime import RapidOCR

MAX_SCAN_PAGES = 10
DPI = 200
MAX_PIXELS = 12_000_000  # a page over 1.5 × A3 is rendered below DPI rather than eat memory
# What an isolated parse asks for once it knows it reads a scan. Measured on one core: 4-10 s a
# page, plus about 6 s to start the recogniser; the child's address space peaks 1.1-2 GB above
# its parent's (resident: 0.7-1 GB).
SECONDS_PER_PAGE = 30.0
MEMORY_MB = 3072
OCR_THREADS = 2
DETECT_SIDE = 1600  # text detection runs on at most this many pixels a side (≈140 dpi for A4)
MAX_SKEW = 5.0  # degrees searched either way for the scan's rotation
INK_LEVEL = 140  # grey level below which a pixel is print, to find blank pages and the skew
MIN_INK = 10.0  # square points of print below which a page is blank (a character has 30 or more)
# Grey levels for the recogniser: darker than PRINT_LEVEL is kept, from PAPER_LEVEL on is paper
# (a red seal in the darkest channel, a grey scan's seal), and what lies between is lightened.
PRINT_LEVEL = 130
PAPER_LEVEL = 175
COLOUR_SPREAD = 60  # grey levels between a pixel's channels that make it coloured ink
SEAL_MARGIN = 4.0  # points around a seal where it is cleaned off
SEAL_SEARCH_DPI = 50  # resolution of the search for grey seals' rings
MIN_SEAL_RADIUS = 30.0  # points; official seals are 38-45 mm across
MAX_SEAL_RADIUS = 80.0
RING_LEVEL = 215  # grey level below which a point of a ring is inked
RING_COVER = 0.9  # share of a circle that must be inked to be a seal's ring
# Ruled lines, in points: a horizontal rule spans at least one cell, wider than any character;
# a vertical one at least one row, and it must meet horizontal rules at both ends (RULE_SLACK:
# a character's stroke in a cell as tall as the print stops short of them).
MIN_RULE_WIDTH = 30.0
MIN_RULE_HEIGHT = 9.0
RULE_SLACK = 1.0
RULE_BLOCK = 6.0  # half the side (points) of the neighbourhood a rule is compared with
RULE_CONTRAST = 20  # grey levels darker than that neighbourhood's mean
STROKE_CONTRAST = 40  # grey levels below the paper that make a pixel part of a stroke
FAINT = 30  # grey levels: a line whose strokes are this much lighter than the page's typical
# line is a seal's or a signature's, not print
MIN_CONFIDENCE = 0.5  # recognised lines less sure than this are noise (RapidOCR's own cut)
# The recogniser reads the 〇 of a date in Chinese numerals (二〇二五年) as a Latin O or a zero.
ZERO = re.compile("(?<=[〇一二三四五六七八九十])[Oo0](?=[〇一二三四五六七八九十年])")

Progress = Callable[[int, int], None]


def read_scan(data: bytes, progress: Progress | None = None) -> list[Page]:
    """The pages of an image-only PDF read by OCR; `progress(done, total)` after each page."""
    import pypdfium2

    try:
        import cv2  # noqa: F401 - OpenCV loads system libraries that a bare machine may lack
    except ImportError as exc:
        raise ReportError(
            "no_text_layer", f"the scan cannot be read: OCR is not available here ({exc})"[:200]
        ) from exc

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise ReportError("damaged", f"cannot open the scan: {exc}"[:200]) from exc
    try:
        total = len(document)
        if total > MAX_SCAN_PAGES:
            raise ReportError(
                "too_large", f"a scan of {total} pages; at most {MAX_SCAN_PAGES} are read"
            )
        extend_limits(seconds=SECONDS_PER_PAGE * total, memory_mb=MEMORY_MB)
        pages = []
        for index in range(total):
            page = document[index]
            try:
                pages.append(_read_page(page, index + 1))
            finally:
                page.close()
            if progress is not None:
                progress(index + 1, total)
    finally:
        document.close()
    if not any(page.lines or page.tables for page in pages):
        raise ReportError(
            "no_text_layer", "no text was recognised on the scan (blank or unreadable)"
        )
    return pages


# One recogniser per process. A forked child (an isolated parse) makes its own: its parent's
# cannot run there, as onnxruntime's thread pools did not come along, nor be freed, as freeing
# it waits for those threads; so it is kept, unused, under the parent's pid.
_engines: dict[int, RapidOCR] = {}


def _engine() -> RapidOCR:
    """This process's recogniser, made on first use."""
    pid = os.getpid()
    if pid not in _engines:
        from rapidocr_onnxruntime import RapidOCR

        _engines[pid] = RapidOCR(
            intra_op_num_threads=min(OCR_THREADS, len(os.sched_getaffinity(0))),
            inter_op_num_threads=1,
            # Straightened pages are upright; the 180° line classifier can only turn a line over.
            use_cls=False,
            # Detect on a smaller copy of the page: as good for print this size, and cheaper.
            det_limit_type="max",
            det_limit_side_len=DETECT_SIDE,
        )
    return _engines[pid]


@dataclass(frozen=True, slots=True)
class _Frame:
    """Maps boxes on the straightened render back to page points."""

    number: int
    width: float
    height: float
    scale: float  # pixels per point
    inverse: np.ndarray  # 2×3 affine: straightened pixels → rendered pixels

    def box(self, x0: float, top: float, x1: float, bottom: float) -> Box:
        """The box of the same size whose centre is where (x0…x1, top…bottom)'s centre was."""
        (a, b, c), (d, e, f) = self.inverse.tolist()
        cx, cy = (x0 + x1) / 2, (top + bottom) / 2
        cx, cy = (a * cx + b * cy + c) / self.scale, (d * cx + e * cy + f) / self.scale
        half_width, half_height = (x1 - x0) / 2 / self.scale, (bottom - top) / 2 / self.scale
        return (
            max(0.0, cx - half_width),
            max(0.0, cy - half_height),
            min(self.width, cx + half_width),
            min(self.height, cy + half_height),
        )


@dataclass(slots=True)
class _Char:
    text: str
    box: tuple[float, float, float, float]  # straightened pixels
    conf: float


def _read_page(page: pypdfium2.PdfPage, number: int) -> Page:
    import cv2
    import numpy as np
    import pypdfium2

    width, height = page.get_size()
    images = sum(1 for _ in page.get_objects(filter=(pypdfium2.raw.FPDF_PAGEOBJ_IMAGE,)))
    scale = min(DPI / 72, math.sqrt(MAX_PIXELS / max(width * height, 1.0)))
    bitmap = page.render(scale=scale)
    image = bitmap.to_numpy()  # BGR
    # Print is dark in every channel; red seals and blue signatures are light in one of them.
    ink = image.max(axis=2)
    coloured = np.where(ink - image.min(axis=2) > COLOUR_SPREAD, 255, 0).astype(np.uint8)
    bitmap.close()
    if np.count_nonzero(ink < INK_LEVEL) < MIN_INK * scale * scale:
        # A blank page (the back of a sheet) costs no OCR.
        return Page(number=number, width=width, height=height, image_count=images)
    matrix, size = _rotation(ink.shape, _skew(ink))
    ink = cv2.warpAffine(ink, matrix, size, flags=cv2.INTER_LINEAR, borderValue=255)
    coloured = cv2.warpAffine(coloured, matrix, size, flags=cv2.INTER_NEAREST, borderValue=0)
    frame = _Frame(number, width, height, scale, cv2.invertAffineTransform(matrix))
    # Around seals, what is as light as a seal's stroke turns to paper for the recogniser (a
    # seal over a date otherwise merges into it). Elsewhere the page stays as scanned: lightening
    # print's grey edges would turn commas into full stops.
    grey = np.arange(256, dtype=np.float64)
    stretch = (255 - PRINT_LEVEL) / (PAPER_LEVEL - PRINT_LEVEL)
    levels = np.where(grey < PRINT_LEVEL, grey, PRINT_LEVEL + (grey - PRINT_LEVEL) * stretch)
    levels = np.clip(levels, 0, 255).astype(np.uint8)
    cleaned = np.where(_seals(ink, coloured, scale) > 0, cv2.LUT(ink, levels), ink)
    chars = _recognise(cleaned, ink)
    cells = _cells(*_rules(ink, scale), scale)
    tables, free = _fill(cells, chars, frame)
    return Page(
        number=number,
        width=width,
        height=height,
        lines=free,
        tables=tables,
        image_count=images,
    )


def _skew(ink: np.ndarray) -> float:
    """The rotation (degrees, counter-clockwise) that makes the print's lines horizontal."""
    import cv2
    import numpy as np

    factor = min(1.0, 1000 / max(ink.shape))
    small = cv2.resize(ink, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(small < INK_LEVEL)
    if ys.size < 200:
        return 0.0
    ys = ys.astype(np.float64) - ys.mean()
    xs = xs.astype(np.float64) - xs.mean()

    def sharpness(degrees: float) -> float:
        # Text lines and rules make the projection peaky once it runs along them.
        theta = math.radians(degrees)
        rows = ys * math.cos(theta) - xs * math.sin(theta)
        counts = np.bincount((rows - rows.min()).astype(np.int64))
        return float(np.dot(counts, counts))

    best = max(np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.25), key=sharpness)
    return float(max(np.arange(best - 0.25, best + 0.25 + 1e-9, 0.025), key=sharpness))


def _rotation(shape: tuple[int, ...], angle: float) -> tuple[np.ndarray, tuple[int, int]]:
    """The affine map rotating an image by `angle` onto a canvas that holds all of it."""
    import cv2

    height, width = shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_width = math.ceil(width * cos + height * sin)
    new_height = math.ceil(width * sin + height * cos)
    matrix[0, 2] += (new_width - width) / 2
    matrix[1, 2] += (new_height - height) / 2
    return matrix, (new_width, new_height)


def _seals(ink: np.ndarray, coloured: np.ndarray, scale: float) -> np.ndarray:
    """Where seals (and signatures) are: coloured ink, and the rings of grey scans' seals."""
    import cv2
    import numpy as np

    margin = max(1, round(SEAL_MARGIN * scale))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    mask = cv2.dilate(coloured, disc)
    factor = SEAL_SEARCH_DPI / 72 / scale
    small = cv2.resize(ink, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    unit = SEAL_SEARCH_DPI / 72  # pixels per point
    circles = cv2.HoughCircles(
        cv2.GaussianBlur(small, (5, 5), 0),
        cv2.HOUGH_GRADIENT,
        dp=1,
        minDist=2 * MIN_SEAL_RADIUS * unit,
        param1=100,
        param2=30,
        minRadius=round(MIN_SEAL_RADIUS * unit),
        maxRadius=round(MAX_SEAL_RADIUS * unit),
    )
    darkest = cv2.erode(small, np.ones((3, 3), np.uint8))
    angles = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    for x, y, radius in [] if circles is None else circles[0]:
        # A seal's ring is inked nearly all round; text and table rules that happen to lie on
        # a circle are not.
        cover = max(
            float(
                (
                    darkest[
                        np.clip((y + r * np.sin(angles)).astype(int), 0, small.shape[0] - 1),
                        np.clip((x + r * np.cos(angles)).astype(int), 0, small.shape[1] - 1),
                    ]
                    < RING_LEVEL
                ).mean()
            )
            for r in radius + np.array([-1.5, -0.75, 0.0, 0.75, 1.5])
        )
        if cover >= RING_COVER:
            centre = (round(x / factor), round(y / factor))
            cv2.circle(mask, centre, round(radius / factor) + margin, 255, -1)
    return mask


_Rect = tuple[int, int, int, int]  # x0, top, x1, bottom in pixels, ends included


def _rules(ink: np.ndarray, scale: float) -> tuple[list[_Rect], list[_Rect]]:
    """The horizontal and vertical rules of ruled tables."""
    import cv2

    # Relative to the paper around it: a thin rule blurred by the scan is only a little darker.
    block = 2 * round(RULE_BLOCK * scale) + 1
    dark = cv2.adaptiveThreshold(
        ink, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, RULE_CONTRAST
    )

    def strokes(length: float, horizontal: bool) -> list[_Rect]:
        size = max(3, round(length * scale))
        bridge = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 1) if horizontal else (1, 3))
        line = cv2.getStructuringElement(cv2.MORPH_RECT, (size, 1) if horizontal else (1, size))
        # Closing first bridges the gaps that noise and JPEG leave in a thin rule.
        bridged = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, bridge)
        mask = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, line)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        return [
            (int(x), int(y), int(x + w - 1), int(y + h - 1)) for x, y, w, h, _ in stats[1:count]
        ]

    horizontal = strokes(MIN_RULE_WIDTH, True)
    vertical = strokes(MIN_RULE_HEIGHT, False)
    slack = RULE_SLACK * scale

    def on_rule(x: float, y: float) -> bool:
        return any(
            x0 - slack <= x <= x1 + slack and top - slack <= y <= bottom + slack
            for x0, top, x1, bottom in horizontal
        )

    # A table's vertical rule runs from one horizontal rule to another; a stroke of a
    # character does not.
    vertical = [
        rule
        for rule in vertical
        if on_rule((rule[0] + rule[2]) / 2, rule[1]) and on_rule((rule[0] + rule[2]) / 2, rule[3])
    ]
    horizontal = [
        rule
        for rule in horizontal
        if sum(
            rule[0] - slack <= (v[0] + v[2]) / 2 <= rule[2] + slack
            and v[1] - slack <= (rule[1] + rule[3]) / 2 <= v[3] + slack
            for v in vertical
        )
        >= 2
    ]
    return horizontal, vertical


def _cells(horizontal: list[_Rect], vertical: list[_Rect], scale: float) -> list[list[Box]]:
    """Tables as lists of cells (straightened pixels), found by pdfplumber's table finder."""
    edges = [
        _edge(x0, (top + bottom) / 2, x1 + 1, (top + bottom) / 2)
        for x0, top, x1, bottom in horizontal
    ]
    edges += [
        _edge((x0 + x1) / 2, top, (x0 + x1) / 2, bottom + 1) for x0, top, x1, bottom in vertical
    ]
    if not edges:
        return []
    tolerance = DEFAULT_SNAP_TOLERANCE * scale
    edges = merge_edges(
        edges,
        snap_x_tolerance=tolerance,
        snap_y_tolerance=tolerance,
        join_x_tolerance=DEFAULT_JOIN_TOLERANCE * scale,
        join_y_tolerance=DEFAULT_JOIN_TOLERANCE * scale,
    )
    intersections = edges_to_intersections(edges, tolerance, tolerance)
    return cells_to_tables(intersections_to_cells(intersections))


def _edge(x0: float, top: float, x1: float, bottom: float) -> dict:
    return {
        "object_type": "line",
        "orientation": "h" if top == bottom else "v",
        "x0": x0,
        "top": top,
        "x1": x1,
        "bottom": bottom,
        "width": x1 - x0,
        "height": bottom - top,
    }


def _recognise(image: np.ndarray, ink: np.ndarray) -> list[list[_Char]]:
    """OCR lines of the straightened page, each a list of characters with their boxes."""
    import cv2
    import numpy as np

    engine = _engine()
    image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)  # the models take three channels
    try:
        # Detection and recognition are called one by one (rather than engine(image)) for the
        # recogniser's CTC columns, which tell where each character of a line is.
        quads, _ = engine.text_det(image)
        if quads is None or not len(quads):
            return []
        recognised, _ = engine.text_rec(engine.get_crop_img_list(image, quads), True)
    except Exception as exc:
        # onnxruntime reports a failed allocation as a runtime error naming std::bad_alloc.
        if "bad_alloc" in str(exc) or "allocate" in str(exc):
            raise ReportError("too_large", "not enough memory to read the scan") from exc
        raise
    found = []
    for quad, (text, conf, columns) in zip(quads, recognised, strict=True):
        if conf < MIN_CONFIDENCE:
            continue
        box = (
            float(quad[:, 0].min()),
            float(quad[:, 1].min()),
            float(quad[:, 0].max()),
            float(quad[:, 1].max()),
        )
        chars = _place(text, float(conf), box, columns)
        if chars:
            found.append((_stroke_level(ink, box), chars))
    if not found:
        return []
    # Seals and signatures are coloured, hence light in the darkest channel, and a grey scan's
    # seal is light grey: their strokes are much fainter than the page's typical line of print.
    faintest = float(np.median([level for level, _ in found])) + FAINT
    return [chars for level, chars in found if level <= faintest]


def _place(
    text: str, conf: float, box: tuple[float, float, float, float], columns: list
) -> list[_Char]:
    """The normalised characters of a recognised line, each with the box it was read from."""
    x0, top, x1, bottom = box
    if not text:
        return []
    text = ZERO.sub("〇", text)
    if bottom - top >= 1.5 * (x1 - x0):  # a vertical line, recognised turned; shared out evenly
        step = (bottom - top) / len(text)
        spans = [(x0, top + i * step, x1, top + (i + 1) * step) for i in range(len(text))]
    else:
        # columns: the CTC output's width in columns, then per word its characters' columns.
        width, _, word_columns, *_ = columns
        pitch = (x1 - x0) / width
        centres = [x0 + (column + 0.5) * pitch for word in word_columns for column in word]
        edges = [x0, *((a + b) / 2 for a, b in itertools.pairwise(centres)), x1]
        spans = [(edges[i], top, edges[i + 1], bottom) for i in range(len(text))]
    chars = []
    for char, (left, upper, right, lower) in zip(text, spans, strict=True):
        # Normalising may drop a character (a space) or, rarely, make more of one.
        folded = normalize(char)
        share = (right - left) / max(len(folded), 1)
        chars.extend(
            _Char(piece, (left + i * share, upper, left + (i + 1) * share, lower), conf)
            for i, piece in enumerate(folded)
        )
    return chars


def _stroke_level(image: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """How dark the strokes in a box are: a low percentile of its pixels darker than its paper."""
    import numpy as np

    x0, top, x1, bottom = box
    crop = image[int(top) : int(bottom) + 1, int(x0) : int(x1) + 1]
    if not crop.size:
        return 255.0
    strokes = crop[crop < np.percentile(crop, 90) - STROKE_CONTRAST]
    return float(np.percentile(strokes, 30)) if strokes.size else 255.0


def _fill(
    tables: list[list[Box]], lines: list[list[_Char]], frame: _Frame
) -> tuple[list[Table], list[Line]]:
    """Tables with their cells' lines, and the lines outside every cell."""
    cells = [cell for table in tables for cell in table]
    held: dict[Box, list[list[_Char]]] = {cell: [] for cell in cells}
    free: list[list[_Char]] = []
    for line in lines:
        # Consecutive characters in the same cell (or in none) stay together; a line that runs
        # across a rule is cut there.
        run: list[_Char] = []
        run_cell: Box | None = None
        for char in line:
            cell = _holder(cells, char.box)
            if run and cell != run_cell:
                (held[run_cell] if run_cell is not None else free).append(run)
                run = []
            run.append(char)
            run_cell = cell
        (held[run_cell] if run_cell is not None else free).append(run)
    out = []
    for table in tables:
        rows = [
            [
                None
                if cell is None
                else Cell(
                    frame.number,
                    *frame.box(*cell),
                    lines=[_line(run, frame) for run in _reading_order(held[cell])],
                )
                for cell in row
            ]
            for row in _rows(table)
        ]
        x0 = min(cell[0] for cell in table)
        top = min(cell[1] for cell in table)
        x1 = max(cell[2] for cell in table)
        bottom = max(cell[3] for cell in table)
        out.append(Table(frame.number, frame.box(x0, top, x1, bottom), rows))
    return out, [_line(run, frame) for run in _reading_order(free)]


def _holder(cells: Sequence[Box], box: Sequence[float]) -> Box | None:
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for cell in cells:
        if cell[0] <= x < cell[2] and cell[1] <= y < cell[3]:
            return cell
    return None


def _rows(cells: Iterable[Box]) -> list[list[Box | None]]:
    """Cells by row, `None` where a merged cell spans: pdfplumber's `Table.rows`."""
    columns = sorted({cell[0] for cell in cells})
    rows: dict[float, dict[float, Box]] = {}
    for cell in sorted(cells, key=lambda cell: (cell[1], cell[0])):
        rows.setdefault(cell[1], {})[cell[0]] = cell
    return [[row.get(x) for x in columns] for _, row in sorted(rows.items())]


def _reading_order(runs: list[list[_Char]]) -> list[list[_Char]]:
    """Top to bottom; runs on the same visual line left to right."""

    def extent(run: list[_Char]) -> tuple[float, float, float]:
        return run[0].box[0], min(c.box[1] for c in run), max(c.box[3] for c in run)

    rows: list[list[list[_Char]]] = []
    row_top = row_bottom = 0.0
    for run in sorted(runs, key=lambda run: extent(run)[1]):
        _, top, bottom = extent(run)
        overlap = min(bottom, row_bottom) - max(top, row_top)
        if rows and overlap > 0.5 * min(bottom - top, row_bottom - row_top):
            rows[-1].append(run)
            row_bottom = max(row_bottom, bottom)
        else:
            rows.append([run])
            row_top, row_bottom = top, bottom
    return [run for row in rows for run in sorted(row, key=lambda run: extent(run)[0])]


def _line(run: list[_Char], frame: _Frame) -> Line:
    glyphs = [Glyph(char.text, frame.number, frame.box(*char.box), char.conf) for char in run]
    return Line(
        glyphs,
        frame.number,
        *frame.box(
            run[0].box[0],
            min(char.box[1] for char in run),
            run[-1].box[2],
            max(char.box[3] for char in run),
        ),
    )
