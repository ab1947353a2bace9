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

from app.errors import InvalidTransition, ValidationFailed

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


VERSION = Field("version", VERSION_LABEL, "integer", description="the case version the caller saw")


@dataclass(frozen=True)
class Body:
    """A JSON request body declared once: the API reads requests with it, and the OpenAPI
    document describes it."""

    fields: tuple[Field, ...]
    optional: bool = False  # the request may send no body at all
    open: bool = False  # other fields are passed on as sent, for the service to check

    def read(self, body: Any) -> dict[str, Any]:
        """Every declared field read by kind, None when not sent (an open body keeps only what
        was sent); 422 for a body that is not an object, an undeclared field, or the first
        field that is wrong."""
        if body is None and self.optional:
            body = {}
        if not isinstance(body, dict):
            raise ValidationFailed(_("The request body must be a JSON object."))
        declared = {f.name: f for f in self.fields}
        others = {key: value for key, value in body.items() if key not in declared}
        if others and not self.open:
            key = next(iter(others))
            raise ValidationFailed(_("Unknown field %(field)s.", field=key), field=key)
        read = {
            name: f.read(body.get(name))
            for name, f in declared.items()
            if name in body or f.required or not self.open
        }
        return {**others, **read}

    def schema(self) -> dict[str, Any]:
        """The body as an OpenAPI 3 schema."""
        described: dict[str, Any] = {
            "type": "object",
            "properties": {f.name: f.schema() for f in self.fields},
            "additionalProperties": self.open,
        }
        required = [f.name for f in self.fields if f.required]
        if required:
            described["required"] = required
        return described
