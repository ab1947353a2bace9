"""What a reader is given of a stored document: its verified bytes, except that a reader who may
not see ID numbers in full (an insurer) gets the settlement agreement and the ruling as copies
(副本) with the numbers masked, and no filing package (it bundles the originals).

The originals are evidence: they stay as they were stored, in full, for the court and the
parties. A copy is rendered again from the data the original was rendered from, once that data
still matches its recorded SHA-256, and its footer names the original's data. The letter and the
signed agreement's scan cannot be masked: an insurer is given them as they are, and each read is
logged with why (`report.downloaded`, `signed_agreement.downloaded`). Whoever reads a document
holding the numbers in full is logged too (`id_number.read`, `app.id_numbers`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app import access, audit, id_numbers, rendering
from app.db import session
from app.documents import canonical_json_sha256, render_agreement, render_ruling
from app.errors import EvidenceAltered, NotAllowed, NotFound
from app.models import Agreement, Case, Confirmation, Document, Role, User
from app.services import agreements, documents, litigation, tribunal

Renderer = Callable[..., bytes]

# Originals that hold ID numbers in full and that no copy can mask (the letter as the police
# issued it, the scan of the signed agreement): an insurer is given them as they are, since it
# pays on the police's liability determination and signs the agreement; each read is logged with
# that purpose.
UNMASKED_ORIGINALS = {
    "report": ("report.downloaded", "liability_determination"),
    agreements.SIGNED_KIND: ("signed_agreement.downloaded", "settlement_terms"),
}
# The documents that hold ID numbers in full.
FULL_NUMBER_KINDS = frozenset(
    {
        "report",
        agreements.AGREEMENT_KIND,
        agreements.SIGNED_KIND,
        tribunal.RULING_KIND,
        litigation.FILING_PACKAGE,
    }
)


@dataclass(frozen=True)
class Readable:
    """The bytes a reader is given, with their type, file name and SHA-256."""

    data: bytes
    media_type: str
    filename: str | None
    sha256: str


def agreement_data_for(user: User, agreement: Agreement) -> dict[str, Any]:
    """The agreement's data as `user` may read it: in full (logged), or with the ID numbers
    masked."""
    case = session.get(Case, agreement.case_id)
    return id_numbers.for_reader(user, case, agreement.data, where="agreement")


def _source(document: Document) -> tuple[dict[str, Any], str, Renderer] | None:
    """The data an agreement or ruling PDF was rendered from, its SHA-256 and its renderer."""
    if document.kind == agreements.AGREEMENT_KIND:
        agreement = session.scalars(
            select(Agreement).where(Agreement.document_id == document.id)
        ).first()
        if agreement is not None:
            return agreement.data, agreement.sha256, render_agreement
    if document.kind == tribunal.RULING_KIND:
        confirmation = session.scalars(
            select(Confirmation).where(Confirmation.ruling_document_id == document.id)
        ).first()
        details = (confirmation.details if confirmation else None) or {}
        if "ruling" in details:
            return details["ruling"], details["ruling_sha256"], render_ruling
    return None


def _copy(original: Document, case: Case, source: tuple[dict[str, Any], str, Renderer]) -> bytes:
    data, sha256, render = source
    if canonical_json_sha256(data) != sha256:
        raise EvidenceAltered(
            _(
                "The recorded data of document %(id)s no longer matches its fingerprint.",
                id=original.id,
            )
        )
    copy = id_numbers.masked(data, id_numbers.known_numbers(case, data))
    return render(copy, current_app.config["DAOJIAO_CJK_FONT"], copy_of=sha256)


def _log_original(user: User, case: Case, original: Document, document: Document) -> None:
    """Log a read of an original holding full ID numbers: a full read, or an insurer's read of
    an original no copy can mask, with why it is given one; refuse any other original."""
    if original.kind not in FULL_NUMBER_KINDS:
        return
    if id_numbers.sees_full(user, case):
        id_numbers.note_full_read(case, where=f"document:{original.id}")
        return
    if original.kind not in UNMASKED_ORIGINALS or not access.can(user, Role.ADJUSTER):
        # The filing package (it bundles the originals), an agreement or ruling whose data is
        # gone (nothing to make a masked copy from), or an original only an insurer needs (it
        # pays on the letter): overseers read names and masked numbers only (DESIGN.md §1).
        raise NotAllowed(
            _("This document holds the ID numbers in full and has no masked copy for you.")
        )
    action, purpose = UNMASKED_ORIGINALS[original.kind]
    # In a transaction of its own: the bytes are given whatever becomes of the request's work.
    audit.record_now(
        action,
        actor_id=user.id,
        case_id=case.id,
        subject=f"document:{original.id}",
        details={"purpose": purpose, "page": document.page if document is not original else None},
    )


def readable_document(user: User, document: Document) -> Readable:
    """The document's verified bytes; for a reader who may not see ID numbers in full, a masked
    copy of an agreement or a ruling (or the page of that copy a page image shows), and no
    filing package."""
    original = document
    if document.kind == documents.PAGE_IMAGE and document.version_of_id is not None:
        original = session.get(Document, document.version_of_id)
    case = session.get(Case, original.case_id)
    source = _source(original) if not id_numbers.sees_full(user, case) else None
    if source is None:
        data = documents.read_document(document)
        _log_original(user, case, original, document)
        return Readable(data, document.media_type, document.filename, document.sha256)
    documents.read_document(document)  # the original is checked on every read, copy or not
    copy = _copy(original, case, source)
    if original is document:
        name = (document.filename or f"document-{document.id}.pdf").removesuffix(".pdf")
        return Readable(
            copy, "application/pdf", f"{name}（副本）.pdf", hashlib.sha256(copy).hexdigest()
        )
    pages = rendering.render_pages(copy, max_pages=document.page or 1)
    if len(pages) < (document.page or 1):
        raise NotFound(_("No such document."))
    png = pages[-1].png
    return Readable(png, "image/png", None, hashlib.sha256(png).hexdigest())
