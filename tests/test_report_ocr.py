"""OCR of scanned letters: scans made here from text PDFs (rotated, noisy), read into pages of
lines and ruled tables whose boxes land where the text PDF has the same characters."""

from __future__ import annotations

import functools
import io
import math
import os

import numpy as np
import pdfplumber
import pypdfium2
import pytest
from PIL import Image
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Table as GridTable
from reportlab.platypus import TableStyle

from app.reports.errors import ReportError
from app.reports.isolation import report_progress, run_isolated
from app.reports.ocr import MAX_SCAN_PAGES, _Char, _fill, _Frame, read_scan
from app.reports.text import normalize

FONT = "WenQuanYiZenHei"
FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
TITLE = "道路交通事故认定书"
pytestmark = pytest.mark.slow  # OCR of rendered scans

WHEN = "交通事故时间：2024年3月15日18时30分许"
PROSE = [
    "当事人王建军，男，1979年3月2日出生，联系电话13935801276。",
    "事故发生时天气晴，傍晚，有路灯照明，视线良好。",
]
GRID = [
    ["事故时间", "2024年4月12日08时20分", "", "天气", "晴"],
    ["甲方", "李海东", "身份证号码", "141102198507160393", ""],
    ["事故事实", "李海东驾驶小型普通客车向右变更车道时与孙艳驾驶的小型轿车发生刮擦。", "", "", ""],
]


@pytest.fixture(scope="module", autouse=True)
def font() -> None:
    if not os.path.exists(FONT_PATH):
        pytest.skip(f"the CJK font {FONT_PATH} is not installed (Debian: fonts-wqy-zenhei)")
    pdfmetrics.registerFont(TTFont(FONT, FONT_PATH, subfontIndex=0))


def prose_pdf() -> bytes:
    """A letter's first lines on page 1; page 2 is blank."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    page.setFont(FONT, 20)
    page.drawCentredString(width / 2, height - 100, TITLE)
    page.setFont(FONT, 12)
    page.drawString(72, height - 150, WHEN)
    for index, text in enumerate(PROSE):
        page.drawString(72, height - 180 - 24 * index, text)
    page.showPage()
    page.showPage()
    page.save()
    return buffer.getvalue()


def grid_pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    page.setFont(FONT, 18)
    page.drawCentredString(width / 2, height - 90, "道路交通事故认定书（简易程序）")
    table = GridTable(GRID, colWidths=[70, 150, 80, 130, 60], rowHeights=[32, 32, 48])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 11),
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("SPAN", (1, 0), (2, 0)),
                ("SPAN", (3, 1), (4, 1)),
                ("SPAN", (1, 2), (4, 2)),
            ]
        )
    )
    table.wrapOn(page, width, height)
    table.drawOn(page, 60, height - 260)
    # A red seal over the table's right-hand side, as police stamps land on these forms.
    page.setStrokeColor(colors.Color(0.85, 0.1, 0.1, alpha=0.8))
    page.setFillColor(colors.Color(0.85, 0.1, 0.1, alpha=0.8))
    page.setLineWidth(2.5)
    page.circle(430, height - 215, 55)
    page.setFont(FONT, 9)
    page.drawCentredString(430, height - 240, "交通事故处理专用章")
    page.showPage()
    page.save()
    return buffer.getvalue()


def blank_pdf(pages: int) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    for _ in range(pages):
        page.showPage()
    page.save()
    return buffer.getvalue()


def scan(pdf: bytes, angle: float, *, dpi: int = 200, grey: bool = True) -> bytes:
    """An image-only PDF of `pdf`: each page rendered, turned `angle`° anticlockwise, noisy."""
    rng = np.random.default_rng(7)
    document = pypdfium2.PdfDocument(pdf)
    images = []
    for index in range(len(document)):
        image = document[index].render(scale=dpi / 72).to_pil().convert("L" if grey else "RGB")
        image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor="white")
        pixels = np.asarray(image, dtype=np.float64)
        pixels = pixels + rng.normal(0, 6, pixels.shape)
        images.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))
    document.close()
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def turned(x: float, y: float, angle: float, width: float, height: float) -> tuple[float, float]:
    """Where PIL's rotate(angle) about the page centre moves the point (x, y)."""
    theta = math.radians(angle)
    dx, dy = x - width / 2, y - height / 2
    return (
        width / 2 + dx * math.cos(theta) + dy * math.sin(theta),
        height / 2 - dx * math.sin(theta) + dy * math.cos(theta),
    )


@functools.cache
def prose_scan() -> tuple[bytes, list, list[tuple[int, int]]]:
    data = scan(prose_pdf(), 1.1)
    calls: list[tuple[int, int]] = []
    pages = read_scan(data, lambda done, total: calls.append((done, total)))
    return data, pages, calls


def test_a_scanned_letter_is_read_line_by_line_in_reading_order() -> None:
    _, pages, calls = prose_scan()
    assert calls == [(1, 2), (2, 2)]
    assert [page.number for page in pages] == [1, 2]
    first, second = pages
    assert (round(first.width), round(first.height)) == (595, 842)
    assert first.image_count == 1
    assert first.tables == []
    texts = [line.text for line in first.lines]
    assert len(texts) == 4
    assert texts[:2] == [TITLE, normalize(WHEN)]
    assert "1979年3月2日" in texts[2]
    assert "13935801276" in texts[2]
    assert "视线良好" in texts[3]
    assert second.lines == []
    assert second.tables == []


def test_glyph_boxes_land_on_the_characters_of_the_scanned_page() -> None:
    _, pages, _ = prose_scan()
    page = pages[0]
    width, height = page.width, page.height
    with pdfplumber.open(io.BytesIO(prose_pdf())) as original:
        truth = [
            (
                char["text"],
                *turned(
                    (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2, 1.1, *A4
                ),
            )
            for char in original.pages[0].chars
        ]
    misses = []
    glyphs = [glyph for line in page.lines for glyph in line.glyphs]
    assert len(glyphs) > 60
    for glyph in glyphs:
        x0, top, x1, bottom = glyph.bbox
        assert 0 <= x0 < x1 <= width
        assert 0 <= top < bottom <= height
        assert glyph.page == 1
        assert 0 < glyph.conf <= 1
        if not glyph.text.isalnum():
            continue  # the ink of CJK punctuation sits in a corner of the box pdfplumber gives
        x, y = (x0 + x1) / 2, (top + bottom) / 2
        nearest = min(
            (math.hypot(x - tx, y - ty) for text, tx, ty in truth if normalize(text) == glyph.text),
            default=math.inf,
        )
        if nearest > 3.0:
            misses.append((glyph.text, nearest))
    assert len(misses) <= len(glyphs) // 20, misses
    for line in page.lines:
        assert line.x0 <= line.glyphs[0].bbox[0] + 1
        assert line.glyphs[-1].bbox[2] <= line.x1 + 1


@pytest.mark.parametrize("grey", [False, True], ids=["colour", "grey"])
def test_a_ruled_table_is_rebuilt_with_the_shape_pdfplumber_gives(grey: bool) -> None:
    # In colour the seal is told by its colour; in grey, by its ring.
    page = read_scan(scan(grid_pdf(), -1.3, grey=grey))[0]
    with pdfplumber.open(io.BytesIO(grid_pdf())) as original:
        expected = original.pages[0].extract_tables()[0]
    assert len(page.tables) == 1
    table = page.tables[0]
    shape = [[cell is None for cell in row] for row in table.rows]
    assert shape == [[cell is None for cell in row] for row in expected]
    texts = [[None if cell is None else cell.text for cell in row] for row in table.rows]
    assert texts[0][0] == "事故时间"
    assert texts[0][1] == "2024年4月12日08时20分"
    assert texts[0][3:] == ["天气", "晴"]
    assert texts[1][:3] == ["甲方", "李海东", "身份证号码"]
    assert texts[1][3] == "141102198507160393"  # under the seal
    assert texts[2][1].startswith("李海东驾驶小型普通客车")
    # Lines inside cells are not page lines; the seal's own text is dropped.
    assert [line.text for line in page.lines] == [normalize("道路交通事故认定书（简易程序）")]
    x0, top, x1, bottom = table.bbox
    assert abs(x0 - 60) < 6
    assert abs(x1 - 550) < 6
    for row in table.rows:
        for cell in row:
            if cell is not None:
                assert x0 - 1 <= cell.x0 < cell.x1 <= x1 + 1
                for line in cell.lines:
                    centre = (line.x0 + line.x1) / 2
                    assert cell.x0 - 3 <= centre <= cell.x1 + 3


def test_a_line_running_across_a_rule_is_split_between_the_cells() -> None:
    frame = _Frame(1, 100.0, 100.0, 1.0, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    left, right = (0.0, 0.0, 50.0, 20.0), (50.0, 0.0, 100.0, 20.0)
    line = [
        _Char(char, (10.0 * i, 5.0, 10.0 * i + 10, 15.0), 0.9)
        for i, char in enumerate("联系电话1393")
    ]
    tables, free = _fill([[left, right]], [line], frame)
    assert free == []
    (row,) = tables[0].rows
    assert [cell.text for cell in row] == ["联系电话1", "393"]
    assert row[1].lines[0].glyphs[0].bbox == (50.0, 5.0, 60.0, 15.0)


def test_a_blank_scan_has_no_text() -> None:
    with pytest.raises(ReportError) as caught:
        read_scan(scan(blank_pdf(1), 0.0))
    assert caught.value.code == "no_text_layer"


def test_a_scan_of_too_many_pages_is_refused_before_reading() -> None:
    calls: list[tuple[int, int]] = []
    with pytest.raises(ReportError) as caught:
        read_scan(scan(blank_pdf(MAX_SCAN_PAGES + 1), 0.0, dpi=20), lambda *a: calls.append(a))
    assert caught.value.code == "too_large"
    assert calls == []


def small_pdf() -> bytes:
    """A small page with a title, then a blank page."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=(300, 80))
    page.setFont(FONT, 20)
    page.drawString(40, 30, TITLE)
    page.showPage()
    page.showPage()
    page.save()
    return buffer.getvalue()


def read_texts(data: bytes) -> list[list[str]]:
    """What an isolated parse of a scan hands back: the pages' lines, reported page by page."""
    return [[line.text for line in page.lines] for page in read_scan(data, report_progress)]


def test_an_isolated_scan_reports_progress_and_gets_the_time_and_memory_it_asks_for() -> None:
    data = scan(small_pdf(), 0.8)
    calls: list[tuple[int, int]] = []
    texts = run_isolated(
        read_texts,
        data,
        timeout=0.5,  # far too short for OCR: the child asks for more
        memory_mb=256,  # too little for onnxruntime, likewise
        progress=lambda done, total: calls.append((done, total)),
        max_timeout=120,
        max_memory_mb=3072,
    )
    assert calls == [(1, 2), (2, 2)]
    assert texts == [[TITLE], []]
    # Without a max_timeout the child cannot extend its time: a full page takes seconds to read
    # even when this process has OCR's libraries loaded already (the tiny page above may not).
    with pytest.raises(ReportError) as caught:
        run_isolated(read_texts, prose_scan()[0], timeout=0.5, memory_mb=3072)
    assert caught.value.code == "timeout"
