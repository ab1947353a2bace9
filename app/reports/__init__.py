"""Read a police accident liability letter (道路交通事故认定书) from a PDF into fields.

Pure: bytes in, a JSON-serialisable dict out (INTERFACES.md §2), no Flask, no database. Every
value filled carries its provenance (page and box of the characters it was read from); a value
the parser is unsure of gets a warning; a value it cannot find is None, never guessed.

    parse_report(data)    parse in this process (trusted input, tests)
    parse_isolated(data)  parse in a forked child with memory/CPU/time limits (uploads)
    check_pdf(data)       cheap checks before storing an upload
"""

from __future__ import annotations

import io
import re

from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
from pdfminer.pdfparser import PDFParser

from .document import extract
from .errors import ReportError
from .isolation import run_isolated
from .layout import read_layout
from .parties import FIELDS as PARTY_FIELDS

__all__ = [
    "MAX_BYTES",
    "PARSER_VERSION",
    "PARTY_FIELDS",
    "ReportError",
    "check_pdf",
    "parse_isolated",
    "parse_report",
]

MAX_BYTES = 20 * 1024 * 1024
PARSER_VERSION = "1"

_ENCRYPT_RE = re.compile(rb"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)")


def check_pdf(data: bytes) -> None:
    """Cheap checks before parsing: size, PDF header, truncation, password; raises ReportError."""
    if len(data) > MAX_BYTES:
        raise ReportError("too_large", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    # Readers accept the header anywhere in the first 1024 bytes (ISO 32000-1, annex H).
    if b"%PDF-" not in data[:1024]:
        raise ReportError("not_pdf", "no PDF header")
    tail = data[-16384:]
    if b"%%EOF" not in tail and b"startxref" not in tail:
        raise ReportError("damaged", "the file is truncated (no end-of-file marker)")
    if _ENCRYPT_RE.search(data):
        _check_password(data)


def _check_password(data: bytes) -> None:
    # Only files with an /Encrypt dictionary get here; those with an empty user password
    # (permissions only) open without one and are read like any other.
    try:
        PDFDocument(PDFParser(io.BytesIO(data)), password="")
    except PDFEncryptionError as exc:
        raise ReportError("encrypted", "the PDF needs a password") from exc
    except MemoryError:
        raise
    except Exception as exc:  # pdfminer's own errors and assorted built-in ones alike
        raise ReportError("damaged", f"cannot open the PDF: {exc!r}"[:200]) from exc


def parse_report(data: bytes) -> dict:
    """The fields of the accident report in `data` (INTERFACES.md §2); raises ReportError."""
    check_pdf(data)
    result = extract(read_layout(data))
    result["parser_version"] = PARSER_VERSION
    return result


def parse_isolated(data: bytes, *, timeout: float = 30.0, memory_mb: int = 1024) -> dict:
    """parse_report in a forked child limited to `memory_mb` more memory and `timeout` seconds."""
    if len(data) > MAX_BYTES:  # refused before forking a copy of it
        raise ReportError("too_large", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    return run_isolated(parse_report, data, timeout=timeout, memory_mb=memory_mb)
