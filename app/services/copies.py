"""What a reader is given of a stored document: its verified bytes, except that a reader who may
not see ID numbers in full (an insurer) gets the settlement agreement and the ruling as copies
(副本) with the numbers masked.

The originals are evidence: they stay as they were stored, in full, for the court and the
parties. A copy is rendered again from the data the original was rendered from, once that data
still matches its recorded SHA-256, and its footer names the original's data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app import access, rendering
from app.db import session
from app.documents import canonical_json_sha256, render_agreement, render_ruling
from app.errors import EvidenceAltered, NotFound
from app.labels import mask_id_number
from app.models import Agreement, Confirmation, Document, Role, User
from app.services import agreements, documents, tribunal

# The roles that may reveal a party's ID number (intake.reveal_id_number) read the originals.
FULL_ID_ROLES = (Role.POLICE, Role.MEDIATOR, Role.JUDGE, Role.ADMIN)

Renderer = Callable[..., bytes]


@dataclass(frozen=True)
class Readable:
    """The bytes a reader is given, with their type, file name and SHA-256."""

    data: bytes
    media_type: str
    filename: str | None
    sha256: str


def sees_full_id_numbers(user: User) -> bool:
    """May `user` read ID numbers in full (the originals, the agreement's data)?"""
    return access.can(user, *FULL_ID_ROLES)


def masked(data: Any) -> Any:
    """`data` with every `id_number` in it masked (`app.labels.mask_id_number`)."""
    if isinstance(data, dict):
        return {
            key: mask_id_number(value) if key == "id_number" else masked(value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [masked(item) for item in data]
    return data


def agreement_data_for(user: User, agreement: Agreement) -> dict[str, Any]:
    """The agreement's data as `user` may read it: in full, or with the ID numbers masked."""
    return agreement.data if sees_full_id_numbers(user) else masked(agreement.data)


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


def _copy(original: Document, source: tuple[dict[str, Any], str, Renderer]) -> bytes:
    data, sha256, render = source
    if canonical_json_sha256(data) != sha256:
        raise EvidenceAltered(
            _(
                "The recorded data of document %(id)s no longer matches its fingerprint.",
                id=original.id,
            )
        )
    return render(masked(data), current_app.config["DAOJIAO_CJK_FONT"], copy_of=sha256)


def readable_document(user: User, document: Document) -> Readable:
    """The document's verified bytes; for a reader who may not see ID numbers in full, a masked
    copy of an agreement or a ruling (or the page of that copy a page image shows)."""
    data = documents.read_document(document)
    original = document
    if document.kind == documents.PAGE_IMAGE and document.version_of_id is not None:
        original = session.get(Document, document.version_of_id)
    source = _source(original) if not sees_full_id_numbers(user) else None
    if source is None:
        return Readable(data, document.media_type, document.filename, document.sha256)
    copy = _copy(original, source)
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
