"""The canonical digest of a settlement row (offer, agreement, payment, assessment, liability
decision, confirmation), put in the audit event that records each write, so that the deep check
(`app.integrity`) can tell a row edited behind the app's back. A leaf module: the services that
write these rows import it, and the checks that read them import the services.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Numeric
from sqlalchemy import inspect as sa_inspect

from app.db import Base
from app.models import Agreement, Assessment, Confirmation, LiabilityDecision, Offer, Payment

# The audit event details key holding {row key: canonical digest} of the rows the event wrote.
DIGESTS_KEY = "row_digests"

# Row kinds, as the prefix of their key ("offer:12", the audit events' subject).
ROW_KINDS: dict[str, type[Base]] = {
    "offer": Offer,
    "agreement": Agreement,
    "payment": Payment,
    "assessment": Assessment,
    "liability_decision": LiabilityDecision,
    "confirmation": Confirmation,
}
_KIND_OF = {model: kind for kind, model in ROW_KINDS.items()}
# Optimistic-locking counters change with every flush and say nothing about the content.
_SKIPPED_COLUMNS = frozenset({"version"})


# -- the canonical digest of a row --------------------------------------------------------------


def row_key(row: Base) -> str:
    """The row's key, as audit events name it: `offer:12`."""
    kind = _KIND_OF[type(row)]
    row_id = sa_inspect(row).mapper.primary_key[0].key
    identity = getattr(row, row_id)
    if identity is None:
        raise ValueError(f"a {kind} row has no id yet: flush it before taking its digest")
    return f"{kind}:{identity}"


def _plain(value: Any, column: Any) -> Any:
    """A column value as JSON data, the same before and after a round trip through the
    database: Decimal as text at the column's scale, times as UTC ISO 8601, enums as values."""
    if value is None:
        return None
    if isinstance(column.type, Numeric) and column.type.scale is not None:
        return format(Decimal(str(value)).quantize(Decimal(1).scaleb(-column.type.scale)), "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(column.type, JSON):
        return json.loads(json.dumps(value, ensure_ascii=False, default=str))
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def canonical_row(row: Base, changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every column of the row (but version counters) as plain data; `changes` are values the
    row is about to take (attribute name → value)."""
    changes = changes or {}
    columns = {}
    for attr in sa_inspect(type(row)).column_attrs:
        if attr.key in _SKIPPED_COLUMNS:
            continue
        value = changes[attr.key] if attr.key in changes else getattr(row, attr.key)
        columns[attr.key] = _plain(value, attr.columns[0])
    return {"kind": _KIND_OF[type(row)], "columns": columns}


def row_digest(row: Base, changes: Mapping[str, Any] | None = None) -> str:
    """SHA-256 of the row's canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(
        canonical_row(row, changes), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def row_digests(*rows: Base) -> dict[str, str]:
    """{row key: digest} of rows as they are now, for the details of the event writing them."""
    return {row_key(row): row_digest(row) for row in rows}


def row_digests_after(row: Base, changes: Mapping[str, Any]) -> dict[str, str]:
    """{row key: digest} of the row once `changes` are applied, for an event recorded before
    the row's attributes are set (a workflow guard must still see the row as it was)."""
    return {row_key(row): row_digest(row, changes)}
