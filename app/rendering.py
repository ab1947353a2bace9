"""PDF pages to PNG images (pypdfium2), for review highlights and previews. Pure: bytes in, out.

Uploaded PDFs are rendered with `render_pages_isolated`: in a forked child with time and memory
limits (`app.isolation`), so that a hostile file costs a job, never the worker running it.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

import pypdfium2 as pdfium

from app.isolation import IsolationError, run_isolated

# Long side of a rendered page in pixels: small print stays legible on a screen.
TARGET_PIXELS = 1400
MAX_PAGES = 12
# A page renders in ~30 ms and a 1400-pixel page needs a few MB: these limits stop only bombs.
RENDER_SECONDS = 60.0
RENDER_MEMORY_MB = 768


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
