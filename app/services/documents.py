"""Evidence and its derived images: store, list, read (verified), render pages for previews."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app import access, audit, jobs, objects, rendering, validation
from app.db import session
from app.errors import InvalidTransition, NotFound, ValidationFailed
from app.models import FINISHED_STATES, Case, Document, Role, User
from app.money import amount_text
from app.objects import get_store
from storage import new_key

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
EVIDENCE_KINDS = ("photo", "medical_bill", "appraisal", "other")
PAGE_IMAGE = "page_image"

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_media_type(data: bytes) -> str | None:
    """The media type a file's content shows (never its name), among those we accept."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def store_document(
    *,
    actor: User | None,
    case: Case,
    kind: str,
    data: bytes,
    media_type: str,
    filename: str | None = None,
    description: str | None = None,
    version_of: Document | None = None,
    page: int | None = None,
) -> Document:
    """Put the bytes in the object store under a new server-made key and record them."""
    stored = get_store().put(data, key=new_key(case.id), media_type=media_type)
    document = Document(
        case_id=case.id,
        kind=kind,
        object_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        media_type=stored.media_type,
        filename=(filename or "")[:255] or None,
        description=description,
        version_of_id=version_of.id if version_of else None,
        page=page,
        created_by_id=actor.id if actor else None,
    )
    session.add(document)
    session.flush()
    return document


def attach_evidence_files(
    *,
    actor: User,
    case: Case,
    kind: str,
    files: list[tuple[str | None, bytes]],
    description: str | None = None,
    amount: Any = None,
) -> list[Document]:
    """Police and mediators add photos, bills, appraisals or other files (filename, bytes) to a
    case; a bill or receipt may carry the amount it shows. Every file is checked before the
    first is stored: a refused later file must not leave the earlier ones
    in the object store with no row (the request's rows roll back, its objects would not)."""
    access.require_role(actor, Role.POLICE, Role.MEDIATOR)
    if case.status in FINISHED_STATES:
        raise InvalidTransition(_("This case is closed: no more evidence can be added."))
    if kind not in EVIDENCE_KINDS:
        raise ValidationFailed(_("Unknown kind of evidence."))
    amount = validation.optional_amount(amount, name="amount", label=_("Amount"))
    for _filename, data in files:
        check_evidence(data)
    return [
        store_evidence(
            actor=actor,
            case=case,
            kind=kind,
            filename=filename,
            data=data,
            description=description,
            amount=amount,
        )
        for filename, data in files
    ]


def check_evidence(
    data: bytes, *, media_types: tuple[str, ...] | None = None, unsupported: str | None = None
) -> str:
    """The media type of an uploaded file, checked by its content (size, type); 413/422
    otherwise. Called before anything is stored."""
    if not data:
        raise ValidationFailed(_("The file is empty."))
    if len(data) > MAX_EVIDENCE_BYTES:
        raise ValidationFailed(_("The file is larger than 20 MB."), code="too_large", status=413)
    media_type = sniff_media_type(data)
    if media_type is None or (media_types is not None and media_type not in media_types):
        raise ValidationFailed(
            unsupported or _("Only PDF files and JPEG, PNG or WebP images can be added."),
            code="unsupported_type",
        )
    if media_type.startswith("image/"):
        _check_image(data)
    return media_type


def store_evidence(
    *,
    actor: User,
    case: Case,
    kind: str,
    filename: str | None,
    data: bytes,
    description: str | None = None,
    media_types: tuple[str, ...] | None = None,
    unsupported: str | None = None,
    amount: Decimal | None = None,
) -> Document:
    """Check an uploaded file by its content (size, type), store it, audit it, preview a PDF."""
    media_type = check_evidence(data, media_types=media_types, unsupported=unsupported)
    document = store_document(
        actor=actor,
        case=case,
        kind=kind,
        data=data,
        media_type=media_type,
        filename=filename,
        description=(description or "").strip()[:200] or None,
    )
    document.amount = amount
    audit.record(
        "document.added",
        actor=actor,
        case_id=case.id,
        subject=f"document:{document.id}",
        details={
            "kind": kind,
            "filename": document.filename,
            "sha256": document.sha256,
            "size": document.size,
            **({"amount": amount_text(amount)} if amount is not None else {}),
        },
    )
    if media_type == "application/pdf":
        jobs.schedule("documents.preview", subject_id=document.id, case_id=case.id, actor=actor)
    return document


def _check_image(data: bytes) -> None:
    """Refuse a pixel bomb (it would freeze the browser of whoever opens the case), from the
    image's header: nothing is decoded here. An image whose header Pillow cannot read is kept
    as uploaded, like any evidence: it is never decoded on the server."""
    try:
        rendering.check_image(data)
    except rendering.RenderError as exc:
        if exc.code == "too_large":
            raise ValidationFailed(
                _(
                    "The image has more than %(megapixels)s million pixels. Save it at a smaller "
                    "size, then add it again.",
                    megapixels=rendering.MAX_IMAGE_PIXELS // 1_000_000,
                ),
                code="too_large",
                status=413,
            ) from exc


def get_document(user: User, document_id: int) -> Document:
    """A document of a case the user may see; anything else is not found."""
    document = session.get(Document, document_id)
    if document is None or document.case_id is None:
        raise NotFound(_("No such document."))
    access.get_case(user, document.case_id)
    return document


def case_documents(case: Case) -> list[Document]:
    """The case's own documents (not derived page images), oldest first."""
    return list(
        session.scalars(
            select(Document)
            .where(Document.case_id == case.id, Document.kind != PAGE_IMAGE)
            .order_by(Document.id)
        )
    )


def page_images(document: Document) -> dict[int, Document]:
    """The rendered pages of a PDF document, by page number."""
    rows = session.scalars(
        select(Document).where(Document.version_of_id == document.id, Document.kind == PAGE_IMAGE)
    )
    return {row.page: row for row in rows if row.page is not None}


def previews(documents: list[Document]) -> dict[int, Document]:
    """For each document, the image to preview it with: itself, or its first rendered page."""
    result = {doc.id: doc for doc in documents if doc.media_type.startswith("image/")}
    pdf_ids = [doc.id for doc in documents if doc.media_type == "application/pdf"]
    if pdf_ids:
        for page in session.scalars(
            select(Document).where(
                Document.version_of_id.in_(pdf_ids), Document.kind == PAGE_IMAGE, Document.page == 1
            )
        ):
            result[page.version_of_id] = page
    return result


def read_document(document: Document) -> bytes:
    """The document's bytes, checked against the SHA-256 recorded when it was stored."""
    return objects.read_verified(
        document.object_key,
        document.sha256,
        altered="document.altered",
        subject=f"document:{document.id}",
        case_id=document.case_id,
    )


def render_page_images(document: Document, data: bytes) -> list[list[float]]:
    """Store a PNG of each page of a PDF document; return the page sizes in points.

    The pages are rendered in an isolated child (the file may be hostile); raises
    rendering.RenderError when it breaks the child's limits or is unreadable.
    """
    case = session.get(Case, document.case_id)
    existing = page_images(document)
    sizes = []
    for image in rendering.render_pages_isolated(data):
        sizes.append([image.width, image.height])
        if image.number not in existing:
            store_document(
                actor=None,
                case=case,
                kind=PAGE_IMAGE,
                data=image.png,
                media_type="image/png",
                version_of=document,
                page=image.number,
            )
    return sizes
