"""Who reads ID numbers (身份证号) in full, what everyone else is given, and the audit of every
answer that shows one in full (README "Finding cases and ID numbers").

The police unit that reported a case, the case's mediation committee, the tribunal it was sent
to and administrators read the numbers in full; anyone else (an insurer's adjuster, any role
added later) reads them masked, `1423**********0012`. Views and presenters pass what they show
through `for_reader`; an answer that showed a full number is logged once, as `id_number.read`,
after it is built (`record_full_reads`), whatever number of fields or places held one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask import g, request
from flask_login import current_user
from werkzeug.wrappers import Response

from app import access, audit
from app.labels import mask_id_number
from app.models import Case, User

FULL_READ = "id_number.read"
_READS = "id_numbers_read"


def sees_full(user: User, case: Case) -> bool:
    """May `user` read the ID numbers of `case` in full? Deny by default."""
    return (
        access.is_case_reporter(user, case)
        or access.is_case_mediator(user, case)
        or access.is_case_tribunal(user, case)
        or access.is_admin(user)
    )


def _is_id_key(key: Any) -> bool:
    """`id_number`, or a path to one as the parser's notes name it (`parties.0.id_number`)."""
    return isinstance(key, str) and (key == "id_number" or key.endswith(".id_number"))


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list | tuple):
        for item in data:
            yield from _strings(item)


def _numbers_in(data: Any) -> Iterator[str]:
    """The values stored under ID-number keys anywhere in `data`."""
    if isinstance(data, dict):
        for key, value in data.items():
            if _is_id_key(key):
                yield from _strings(value)
            else:
                yield from _numbers_in(value)
    elif isinstance(data, list | tuple):
        for item in data:
            yield from _numbers_in(item)


def known_numbers(case: Case, data: Any = None) -> set[str]:
    """The case's parties' ID numbers and any read into `data` (a letter as read may hold one
    that is not stored on a party), without spaces, upper-case; short values are left out."""
    found = [party.id_number for party in case.parties if party.id_number]
    found.extend(_numbers_in(data))
    numbers = {number.replace(" ", "").upper() for number in found}
    return {number for number in numbers if len(number) > 8}


def masked(data: Any, numbers: Iterable[str] = ()) -> Any:
    """`data` with every value under an ID-number key masked, and every one of `numbers`
    masked wherever else it appears in a text (the facts as the letter states them)."""
    pattern = _pattern(numbers)

    def walk(value: Any, under_id_key: bool) -> Any:
        if isinstance(value, dict):
            return {key: walk(item, under_id_key or _is_id_key(key)) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [walk(item, under_id_key) for item in value]
        if isinstance(value, str):
            if under_id_key:
                return mask_id_number(value.replace(" ", ""))
            if pattern is not None:
                return pattern.sub(lambda match: mask_id_number(match.group(0)) or "", value)
        return value

    return walk(data, False)


def _pattern(numbers: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(set(numbers), key=len, reverse=True)
    if not ordered:
        return None
    return re.compile("|".join(re.escape(number) for number in ordered), re.IGNORECASE)


def shows_a_number(data: Any, numbers: Iterable[str]) -> bool:
    """Does any text in `data` hold one of `numbers`?"""
    text = json.dumps(data, ensure_ascii=False, default=str).upper()
    return any(number in text for number in numbers)


def for_reader(user: User, case: Case, data: Any, *, where: str) -> Any:
    """`data` of `case` as `user` may read it: masked, or in full and noted as read at `where`
    (an endpoint, a document) when it holds a full number."""
    numbers = known_numbers(case, data)
    if not sees_full(user, case):
        return masked(data, numbers)
    if numbers and shows_a_number(data, numbers):
        note_full_read(case, where=where)
    return data


def note_full_read(case: Case, *, where: str) -> None:
    """Remember that this answer shows ID numbers of `case` in full; logged once it is built."""
    reads: dict[int, list[str]] = g.setdefault(_READS, {})
    places = reads.setdefault(case.id, [])
    if where not in places:
        places.append(where)


def record_full_reads(response: Response) -> Response:
    """After each request (registered app-wide): one `id_number.read` event for an answer that
    showed full ID numbers, in a transaction of its own (the request's work is committed by
    now, and a read is logged whatever the request changed)."""
    reads: dict[int, list[str]] | None = g.pop(_READS, None)
    if not reads or response.status_code >= 400 or not current_user.is_authenticated:
        return response
    case_ids = sorted(reads)
    audit.record_now(
        FULL_READ,
        actor_id=current_user.id,
        case_id=case_ids[0] if len(case_ids) == 1 else None,
        subject=request.endpoint,
        details={
            "method": request.method,
            "path": request.path,
            "where": {str(case_id): reads[case_id] for case_id in case_ids},
        },
    )
    return response
