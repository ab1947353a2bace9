"""Refuse control characters in any request input, once, before any view runs.

PostgreSQL cannot store NUL in text, so a NUL in a search, a name or a note used to fail deep in
a view with a 500 (and, for an upload, after its file was stored). Other C0 and C1 controls are
never typed by a person and only confuse logs, PDFs and the screens that show the text. Tab, CR
and LF are ordinary text (multi-line notes) and pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _

from app.errors import ValidationFailed

# C0 controls except tab, LF and CR; DEL; the C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _json_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every key and string value of a JSON document, with the dotted path naming it."""
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            yield name, str(key)
            yield from _json_strings(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}[{index}]")


def _inputs() -> Iterator[tuple[str, str]]:
    """(field name, text) for everything a request sends that a view may read as text."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            yield name, value
    for source in (request.args, request.form):
        for name, values in source.lists():
            yield name, name
            for value in values:
                yield name, value
    for name, upload in request.files.items(multi=True):
        yield name, name
        yield name, upload.filename or ""
    if request.is_json:
        yield from _json_strings(request.get_json(silent=True), "")


def refuse_control_characters() -> None:
    """`before_request`: 422 `control_characters` naming the first field that holds one."""
    for name, text in _inputs():
        if CONTROL_CHARACTERS.search(text):
            field = CONTROL_CHARACTERS.sub("?", name) or "?"
            raise ValidationFailed(
                _(
                    "The field %(field)s contains a control character (such as NUL) that cannot "
                    "be saved. Remove it and send again.",
                    field=field,
                ),
                code="control_characters",
                field=field,
                fields=[field],
            )


def init_app(app: Flask) -> None:
    """Check every request's input before its view (and before other hooks read it)."""
    app.before_request(refuse_control_characters)
