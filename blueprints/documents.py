"""Evidence files: download (hash-checked, with X-Content-SHA256) and inline previews."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, request
from flask_login import current_user

from app import access
from app.models import Role
from app.services import copies, documents

bp = Blueprint("documents", __name__, url_prefix="/documents")
access.guard_blueprint(bp, Role)

# Only these are shown inside the page; anything else is always a download.
INLINE_TYPES = ("image/png", "image/jpeg", "image/webp", "application/pdf")


def file_response(document_id: int) -> Response:
    """The document's verified bytes (an insurer's copy of an agreement or ruling has the ID
    numbers masked), for the portal and the API alike."""
    document = documents.get_document(current_user, document_id)
    readable = copies.readable_document(current_user, document)
    inline = request.args.get("inline") == "1" and readable.media_type in INLINE_TYPES
    name = readable.filename or f"document-{document.id}"
    disposition = "inline" if inline else "attachment"
    response = Response(readable.data, mimetype=readable.media_type)
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"document-{document.id}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["X-Content-SHA256"] = readable.sha256
    # Evidence is never run as a page of ours, whatever it contains.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@bp.get("/<int:document_id>/content")
def content(document_id: int):
    return file_response(document_id)
