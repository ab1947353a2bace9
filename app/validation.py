"""Reading what users send: text, amounts, dates, whole numbers, versions and JSON bodies.

Every check raises `ValidationFailed` (422) whose message names the field by its label, a
translated word such as 金额, never by its JSON key; the key goes into the error's details.
A `Body` declares a JSON request body once: the API reads requests with it and the OpenAPI
document (blueprints/openapi.py) describes the same declaration.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.http import parse_etags

from app.errors import DomainError, InvalidTransition, ValidationFailed

Label = str | LazyString

# Up to 12 digits of yuan (Numeric(14, 2)), thousands optionally grouped by commas, two decimals.
_AMOUNT = re.compile(r"(?:\d{1,12}|\d{1,3}(?:,\d{3}){1,3})(?:\.\d{1,2})?")
FEN = Decimal("0.01")


def _refuse(message: str, name: str) -> ValidationFailed:
    return ValidationFailed(message, field=name)


def text(value: Any, *, name: str, label: Label, limit: int, required: bool = False) -> str | None:
    """The text stripped of surrounding blanks, None if empty; refused if too long or missing."""
    if value is not None and not isinstance(value, str):
        raise _refuse(_("%(label)s must be text.", label=label), name)
    stripped = (value or "").strip()
    if len(stripped) > limit:
        raise _refuse(
            _("%(label)s is longer than %(limit)d characters.", label=label, limit=limit), name
        )
    if required and not stripped:
        raise _refuse(_("%(label)s is required.", label=label), name)
    return stripped or None


def amount(value: Any, *, name: str, label: Label, positive: bool = False) -> Decimal:
    """An amount in yuan, never negative, at most two decimals: "114,318.37", "114318.37", a
    JSON number or a Decimal; `positive` refuses zero too."""
    if isinstance(value, Decimal):
        value = format(value, "f")
    written = str(value).strip() if isinstance(value, str | int | float) else ""
    if isinstance(value, bool) or not _AMOUNT.fullmatch(written):
        raise _refuse(
            _(
                "%(label)s must be an amount in yuan with at most two decimals, such as "
                "1,200.50, not %(value)s.",
                label=label,
                value=written or "—",
            ),
            name,
        )
    parsed = Decimal(written.replace(",", "")).quantize(FEN)
    if positive and parsed <= 0:
        raise _refuse(_("%(label)s must be more than zero.", label=label), name)
    return parsed


def optional_amount(
    value: Any, *, name: str, label: Label, positive: bool = False
) -> Decimal | None:
    """`amount`, or None when nothing was given (None or blank)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return amount(value, name=name, label=label, positive=positive)


def a_date(value: Any, *, name: str, label: Label) -> date | None:
    """A calendar date written 2024-01-31 (or a date already), None when nothing was given."""
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str) and not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except (AttributeError, ValueError) as exc:
        raise _refuse(_("%(label)s must be a date like 2024-01-31.", label=label), name) from exc


def moment(value: Any, *, name: str, label: Label, with_offset: bool = False) -> datetime:
    """A date and time in ISO 8601 (2024-03-01T09:30:00+08:00); `with_offset` refuses one
    without its offset from UTC."""
    parsed = None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value.strip())
    if parsed is None or (with_offset and parsed.tzinfo is None):
        raise _refuse(
            _(
                "%(label)s must be a date and time with its offset, "
                "e.g. 2024-03-01T09:30:00+08:00.",
                label=label,
            )
            if with_offset
            else _(
                "%(label)s must be a date and time, e.g. 2024-03-01T09:30:00+08:00.", label=label
            ),
            name,
        )
    return parsed


def whole_number(value: Any, *, name: str, label: Label) -> int:
    """A JSON whole number (true and false are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(_("%(label)s must be a whole number.", label=label), name)
    return value


VERSION_LABEL = _l("Version of the case")


def version(body: Mapping[str, Any]) -> int | None:
    """The case version a client saw, from its JSON body; None if it sent none."""
    value = body.get("version")
    return None if value is None else whole_number(value, name="version", label=VERSION_LABEL)


def form_version(value: str | None) -> int | None:
    """The case version a multipart form sent as text; None if it sent none."""
    if not value:
        return None
    if not value.strip().isdigit():
        raise _refuse(_("%(label)s must be a whole number.", label=VERSION_LABEL), "version")
    return int(value)


class VersionRequired(DomainError):
    """A write that changes money or a case's status was sent without the case version it was
    made from: answering it could overwrite a change the sender never saw."""

    status = 428
    code = "version_required"


# The entity tag of a case as GET /api/v1/cases/{id} sends it. Weak: the case's JSON also shows
# job progress, which changes without a new version; If-Match compares the tag, W/ or not.
_ETAG = re.compile(r"case-(\d+)-v(\d+)")


def case_etag(case: Any) -> str:
    """The ETag of `case` at its current version, e.g. W/"case-12-v7"."""
    return f'W/"case-{case.id}-v{case.version}"'


def required_version(sent: int | None, *, if_match: str | None, case_id: int | None) -> int:
    """The case version a write was made from: the one its body or form sent, else the one its
    If-Match header's ETag carries; 428 when neither names a version of this case, 409 when the
    two disagree (one of them is stale)."""
    tagged: set[int] = set()
    if if_match and case_id is not None:
        for tag in parse_etags(if_match).as_set(include_weak=True):
            matched = _ETAG.fullmatch(tag)
            if matched and int(matched[1]) == case_id:
                tagged.add(int(matched[2]))
    if len(tagged) > 1 or (sent is not None and tagged and tagged != {sent}):
        raise InvalidTransition(
            _("The versions in the request and its If-Match header differ. Reload the case.")
        )
    if sent is not None:
        return sent
    if tagged:
        return tagged.pop()
    raise VersionRequired(
        _(
            'This change needs the version of the case it was made from: send "version" '
            "or an If-Match header with the case's ETag. Reload the case and try again."
        )
    )


def required_form_version(value: str | None) -> int:
    """The case version a portal form sent as its hidden field; 428 (a page asking to reload)
    when the form had none."""
    seen = form_version(value)
    if seen is None:
        raise VersionRequired(
            _("This page is out of date or incomplete. Reload the case page and try again.")
        )
    return seen


def check_version(case: Any, seen: int | None) -> None:
    """Refuse (409) a change made on a case version other than the current one."""
    if seen is not None and seen != case.version:
        raise InvalidTransition(
            _("Someone else changed this case at the same time. Reload it and try again.")
        )


# -- request bodies -------------------------------------------------------------------------

# How OpenAPI describes each kind of field. Kinds other than text, amount, date, datetime and
# integer are passed on as sent: the service they go to checks them.
_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "amount": {"type": "string", "example": "114,318.37"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "array": {"type": "array", "items": {}},
    "any": {},
}


@dataclass(frozen=True)
class Field:
    """One field of a JSON body: its key, its label in messages, its kind, whether it must be
    sent, and (for text) its longest length."""

    name: str
    label: Label
    kind: str = "text"
    required: bool = False
    limit: int = 4000
    with_offset: bool = False  # a datetime must say its offset from UTC
    description: str = ""

    def read(self, value: Any) -> Any:
        """The value sent, checked and converted by kind; None if not sent."""
        if value is None:
            if self.required:
                raise _refuse(_("%(label)s is required.", label=self.label), self.name)
            return None
        if self.kind == "text":
            text(value, name=self.name, label=self.label, limit=self.limit)
            return value.strip()  # blank stays blank: for some services it clears a value
        if self.kind == "amount":
            return optional_amount(value, name=self.name, label=self.label)
        if self.kind == "date":
            return a_date(value, name=self.name, label=self.label)
        if self.kind == "datetime":
            return moment(value, name=self.name, label=self.label, with_offset=self.with_offset)
        if self.kind == "integer":
            return whole_number(value, name=self.name, label=self.label)
        return value

    def schema(self) -> dict[str, Any]:
        """The field as an OpenAPI 3 schema."""
        described = {**_SCHEMAS[self.kind], "title": str(self.label)}
        if self.kind == "text":
            described["maxLength"] = self.limit
        if self.description:
            described["description"] = self.description
        return described


# The case version a write was made from. A body declaring it needs it (or an If-Match header
# with the case's ETag, see `required_version`): without either the write answers 428.
VERSION = Field(
    "version",
    VERSION_LABEL,
    "integer",
    description="the case version the caller saw (GET /cases/{id}); instead an If-Match header "
    'may carry the case\'s ETag, e.g. W/"case-12-v7"; without either 428 version_required, a '
    "stale one 409",
)


def unknown_fields(sent: list[str]) -> ValidationFailed:
    """The 422 error naming every field sent that the request does not take, so that a client
    fixes them all at once: code `invalid_input` as before, the fields listed in `fields`."""
    message = (
        _("Unknown field %(field)s.", field=sent[0])
        if len(sent) == 1
        else _("Unknown fields %(fields)s.", fields=", ".join(sent))
    )
    return ValidationFailed(message, fields=sent, field=sent[0])


@dataclass(frozen=True)
class Body:
    """A JSON request body declared once: the API reads requests with it, and the OpenAPI
    document describes it. Fields it does not declare are refused, all named at once."""

    fields: tuple[Field, ...]
    optional: bool = False  # the request may send no body at all
    sparse: bool = False  # only the fields sent are kept (a claim is stored as it was sent)

    @property
    def versioned(self) -> bool:
        """True when the write needs the case version (body field or If-Match)."""
        return VERSION in self.fields

    def read(self, body: Any) -> dict[str, Any]:
        """Every declared field read by kind, None when not sent (a sparse body keeps only what
        was sent); 422 for a body that is not an object, for undeclared fields (all of them,
        named in the error's `fields`), or the first field that is wrong. Whether the version
        was sent is not checked here: see `required_version`."""
        if body is None and self.optional:
            body = {}
        if not isinstance(body, dict):
            raise ValidationFailed(_("The request body must be a JSON object."))
        declared = {f.name: f for f in self.fields}
        others = [key for key in body if key not in declared]
        if others:
            raise unknown_fields(others)
        return {
            name: f.read(body.get(name))
            for name, f in declared.items()
            if name in body or f.required or not self.sparse
        }

    def schema(self) -> dict[str, Any]:
        """The body as an OpenAPI 3 schema."""
        described: dict[str, Any] = {
            "type": "object",
            "properties": {f.name: f.schema() for f in self.fields},
            "additionalProperties": False,
        }
        required = [f.name for f in self.fields if f.required or f == VERSION]
        if required:
            described["required"] = required
        return described


def check_form(sent: list[str], known: tuple[str, ...]) -> None:
    """Refuse (422, named in the error's `fields`) the multipart fields and files a request
    does not take."""
    others = [name for name in dict.fromkeys(sent) if name not in known]
    if others:
        raise unknown_fields(others)
