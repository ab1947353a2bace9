"""The documents the platform writes, as PDFs: the settlement agreement, the confirmation ruling
and the filing package's summary (DESIGN.md §3).

Pure functions: plain data in, PDF bytes out, the CJK font's path passed in by the caller; no
Flask, no database. They share one page (`page`), one set of tables (`tables`) and one wording
of the data (`wording`); amounts are written by `app.money`.
"""

from app.documents.agreement import render_agreement
from app.documents.filing_summary import render_filing_summary
from app.documents.page import canonical_json_sha256
from app.documents.ruling import ORDER, render_ruling, ruling_order

__all__ = [
    "ORDER",
    "canonical_json_sha256",
    "render_agreement",
    "render_filing_summary",
    "render_ruling",
    "ruling_order",
]
