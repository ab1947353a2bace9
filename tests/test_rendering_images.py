"""Pixel bombs: a small image declaring billions of pixels is refused at upload from its header,
before anything decodes it (a browser opening the case would otherwise try to)."""

from __future__ import annotations

import io
import resource
import struct
import time
import zlib

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from app import rendering
from app.db import session
from app.errors import ValidationFailed
from app.models import Document, OrgKind
from app.services import documents
from tests import factories

BOMB_SIDE = 50_000


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_pixel_bomb(side: int = BOMB_SIDE) -> bytes:
    """A valid PNG of side × side black pixels, one bit each: a few hundred KB on disk, 312 MB
    of scanlines, and side² × 4 bytes (10 GB) for a browser that decodes it. Test data written
    with zlib and the PNG chunk layout: nothing here reads untrusted bytes."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte, then the packed pixels
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def photo(size: tuple[int, int] = (64, 48), image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return png_pixel_bomb()


def test_a_png_pixel_bomb_is_refused_from_its_header_alone(bomb: bytes) -> None:
    assert len(bomb) < 2 * 1024 * 1024  # passes the upload size limit easily
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(rendering.RenderError) as caught:
        rendering.check_image(bomb)
    assert caught.value.code == "too_large"
    assert time.monotonic() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB


def test_photos_up_to_the_limit_pass_with_their_size() -> None:
    assert rendering.check_image(photo()) == (64, 48)
    assert rendering.check_image(photo((32, 20), "JPEG")) == (32, 20)
    assert rendering.check_image(photo((16, 16), "WEBP")) == (16, 16)
    # Just under the limit (a 108-megapixel phone photo), declared by the header only.
    side = int(rendering.MAX_IMAGE_PIXELS**0.5)
    assert rendering.check_image(png_pixel_bomb(side)) == (side, side)


def test_pillow_itself_refuses_to_decode_past_the_limit(bomb: bytes) -> None:
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb))


def test_evidence_that_is_a_pixel_bomb_is_refused_and_nothing_is_stored(
    app: Flask, bomb: bytes
) -> None:
    police = factories.make_org(OrgKind.POLICE)
    officer = factories.make_user(police)
    case = factories.make_case(police=police)
    with pytest.raises(ValidationFailed) as caught:
        documents.attach_evidence_files(
            actor=officer, case=case, kind="photo", files=[("scene.png", bomb)]
        )
    assert caught.value.code == "too_large"
    assert caught.value.status == 413
    assert str(rendering.MAX_IMAGE_PIXELS // 1_000_000) in caught.value.message
    (kept,) = documents.attach_evidence_files(
        actor=officer, case=case, kind="photo", files=[("scene.png", photo())]
    )
    stored = session.scalars(select(Document).where(Document.case_id == case.id)).all()
    assert [document.id for document in stored] == [kept.id]
