"""PDF pages to PNG images (pypdfium2), for review highlights and previews. Pure: bytes in, out.

Uploaded PDFs are rendered with `render_pages_isolated`: in a forked child with time and memory
limits (`app.isolation`), so that a hostile file costs a job, never the worker running it.
Uploaded images are never decoded on the server (browsers show them as they are), but a pixel
bomb (a small PNG declaring 50000 × 50000 pixels, 10 GB once decoded) would freeze the browser
of everyone who opens the case: `check_image` refuses one at upload from its header alone.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError

from app.isolation import IsolationError, run_isolated

# Long side of a rendered page in pixels: small print stays legible on a screen.
TARGET_PIXELS = 1400
MAX_PAGES = 12
# A page renders in ~30 ms and a 1400-pixel page needs a few MB: these limits stop only bombs.
RENDER_SECONDS = 60.0
RENDER_MEMORY_MB = 768
# An image may have at most this many pixels: a 108-megapixel phone photo, or an A3 scan at
# 600 dpi (70 MP), fits; 480 MB once decoded at four bytes a pixel. Pillow is told the same: it
# warns above it and refuses to open twice as much anywhere in the process.
MAX_IMAGE_PIXELS = 120_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
# The image types uploads may be (app.services.documents sniffs them by content).
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP")


class RenderError(IsolationError):
    """The pages could not be rendered: `code` is `timeout`, `too_large` or `damaged`."""


@dataclass(frozen=True)
class PageImage:
    number: int  # 1-based
    width: float  # PDF points
    height: float
    png: bytes


def render_pages(data: bytes, *, max_pages: int = MAX_PAGES) -> list[PageImage]:
    """Render the first `max_pages` pages of a PDF as PNG images with their sizes in points."""
    pdf = pdfium.PdfDocument(data)
    try:
        images = []
        for index in range(min(len(pdf), max_pages)):
            page = pdf[index]
            try:
                width, height = page.get_size()
                scale = TARGET_PIXELS / max(width, height, 1.0)
                bitmap = page.render(scale=scale)
                try:
                    buffer = io.BytesIO()
                    # Fast compression: a page renders in ~30 ms, and `optimize` would add ~300.
                    bitmap.to_pil().save(buffer, format="PNG", compress_level=1)
                finally:
                    bitmap.close()
                images.append(
                    PageImage(index + 1, round(width, 2), round(height, 2), buffer.getvalue())
                )
            finally:
                page.close()
        return images
    finally:
        pdf.close()


def render_pages_isolated(
    data: bytes,
    *,
    max_pages: int = MAX_PAGES,
    timeout: float = RENDER_SECONDS,
    memory_mb: int = RENDER_MEMORY_MB,
) -> list[PageImage]:
    """render_pages in a forked child limited to `timeout` seconds and `memory_mb` more memory;
    RenderError when the file breaks a limit or is no readable PDF."""
    return run_isolated(
        functools.partial(render_pages, max_pages=max_pages),
        data,
        timeout=timeout,
        memory_mb=memory_mb,
        error=RenderError,
    )


def check_image(data: bytes) -> tuple[int, int]:
    """The width and height an uploaded JPEG, PNG or WebP image declares, read from its header
    without decoding a pixel; RenderError `too_large` above MAX_IMAGE_PIXELS, `damaged` when
    it is none of those formats (or its header is broken)."""
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
            width, height = image.size
    # The warning is raised where warnings are errors (the tests); it is refused all the same.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RenderError("too_large", str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise RenderError("damaged", f"unreadable image ({type(exc).__name__})") from exc
    if width * height > MAX_IMAGE_PIXELS:
        raise RenderError("too_large", f"{width} x {height} pixels")
    return width, height
