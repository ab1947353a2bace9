"""Small builders of test data; each flushes so ids exist, none commits."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from app.db import session
from app.models import (
    Case,
    CaseStatus,
    Document,
    Organization,
    OrgKind,
    Party,
    Policy,
    PolicyKind,
    Report,
    User,
    Vehicle,
)
from app.services import accounts

PASSWORD = "correct-horse-battery"  # noqa: S105 - test accounts only
_serial = itertools.count(1)


def make_org(kind: OrgKind | str, name: str | None = None, **fields: Any) -> Organization:
    """An organisation of `kind` with a unique name."""
    kind = OrgKind(kind)
    return accounts.create_organization(
        actor=None, kind=kind, name=name or f"{kind.value}-{next(_serial)}", **fields
    )


def make_user(org: Organization, username: str | None = None, password: str = PASSWORD) -> User:
    """A user of `org` with the role of its kind."""
    return accounts.create_user(
        actor=None,
        org=org,
        username=username or f"{org.kind.value}{next(_serial)}",
        password=password,
    )


def make_case(
    *,
    police: Organization,
    status: CaseStatus = CaseStatus.REPORTED,
    insurer: Organization | None = None,
    committee: Organization | None = None,
    tribunal: Organization | None = None,
    **fields: Any,
) -> Case:
    """A case reported by `police`, optionally insured by `insurer`, assigned and sent on."""
    number = next(_serial)
    case = Case(
        number=fields.pop("number", f"DJ-TEST-{number:06d}"),
        status=status,
        reporting_unit_id=police.id,
        mediation_committee_id=committee.id if committee else None,
        tribunal_id=tribunal.id if tribunal else None,
        **fields,
    )
    case.parties.append(
        Party(
            label="甲方",
            position=0,
            name=f"张{number}",
            id_number="142301198503150012",
            liability="main",
        )
    )
    vehicle = Vehicle(plate=f"晋J{number:05d}", vehicle_type="小型轿车")
    if insurer is not None:
        vehicle.policies.append(
            Policy(kind=PolicyKind.CTPI, insurer_name=insurer.name, insurer_org_id=insurer.id)
        )
    case.vehicles.append(vehicle)
    session.add(case)
    session.flush()
    return case


def make_accident_case(
    *,
    police: Organization,
    committee: Organization,
    insurer: Organization,
    status: CaseStatus = CaseStatus.REPORTED,
    commercial: bool = True,
    commercial_limit: Decimal | None = Decimal("1000000"),
    ctpi: str = "insured",
    driver_known: bool = True,
) -> Case:
    """A confirmed two-party case: 甲方 drives a car insured by `insurer` (交强险 and, with a
    limit, 商业三者险) with main liability; 乙方 rides an e-bike with minor liability.

    `ctpi`: "insured" (交强险 with `insurer`), "uninsured" (the officer ticked 未投保交强险 in
    the reviewed report) or "unknown" (the report says neither). `driver_known=False`: 甲方
    fled and is unknown (null identity fields, as intake stores 逃逸/身份不明).
    """
    if ctpi not in ("insured", "uninsured", "unknown"):
        raise ValueError(f"ctpi must be insured, uninsured or unknown, not {ctpi!r}")
    number = next(_serial)
    case = Case(
        number=f"DJ-TEST-{number:06d}",
        status=status,
        reporting_unit_id=police.id,
        mediation_committee_id=committee.id,
        accident_time=datetime(2023, 11, 5, 1, 30, tzinfo=UTC),
        accident_place="吕梁市离石区滨河北西路",
    )
    driver = Party(
        label="甲方",
        position=0,
        name=f"张{number}" if driver_known else None,
        role="driver",
        liability="main",
    )
    rider = Party(
        label="乙方", position=1, name=f"王{number}", role="cyclist", liability="minor", age=35
    )
    case.parties.extend([driver, rider])
    session.add(case)
    session.flush()
    vehicle = Vehicle(plate=f"晋J{number:05d}", vehicle_type="小型轿车", driver_party_id=driver.id)
    if ctpi == "insured":
        vehicle.policies.append(
            Policy(kind=PolicyKind.CTPI, insurer_name=insurer.name, insurer_org_id=insurer.id)
        )
    if ctpi == "uninsured":  # the flag lives in the confirmed report's reviewed fields only
        add_confirmed_report(
            case,
            parties=[
                {"label": "甲方", "name": driver.name, "ctpi_uninsured": True},
                {"label": "乙方", "name": rider.name},
            ],
        )
    if commercial:
        vehicle.policies.append(
            Policy(
                kind=PolicyKind.COMMERCIAL,
                insurer_name=insurer.name,
                insurer_org_id=insurer.id,
                limit=commercial_limit,
            )
        )
    case.vehicles.append(vehicle)
    session.flush()
    return case


def add_confirmed_report(case: Case, *, parties: list[dict[str, Any]]) -> Report:
    """A confirmed report of `case` whose reviewed fields list `parties` (INTERFACES.md §2
    party fields, plus `ctpi_uninsured`), on a placeholder document row (no bytes stored)."""
    document = Document(
        case_id=case.id,
        kind="report",
        object_key=f"test/report-{next(_serial)}",
        sha256="0" * 64,
        size=0,
        media_type="application/pdf",
        filename="认定书.pdf",
    )
    session.add(document)
    session.flush()
    report = Report(
        case_id=case.id,
        document_id=document.id,
        fields={"parties": parties},
        confirmed_at=datetime.now(UTC),
    )
    session.add(report)
    session.flush()
    session.refresh(case, ["report"])
    return report


def login(client: FlaskClient, user: User) -> None:
    """Log `client` in as `user` without the login form: a server-side login session, named
    in the cookie by the keys Flask-Login keeps there (no password is checked or hashed)."""
    # Committed in an app context of its own, as the login request would: the caller's
    # session and transaction stay as they were.
    with client.application.app_context():
        token = accounts.start_session(
            user=session.get(User, user.id), ip="127.0.0.1", user_agent=None
        )
        session.commit()
    # The session identifier is what Flask-Login's "strong" protection compares with each
    # request's address and browser; FlaskLoginClient leaves it out (flask-login issue #586).
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = client.application.login_manager._session_identifier_generator()
    with client.session_transaction() as cookie_session:
        cookie_session.update({"_user_id": token, "_fresh": True, "_id": identifier})


def api_token(client: FlaskClient, user: User) -> dict[str, str]:
    """Headers with a fresh bearer token for `user`, issued without a password check (in an
    app context of its own, as `login`)."""
    with client.application.app_context():
        issued = accounts.issue_token(
            user=session.get(User, user.id), hours=client.application.config["API_TOKEN_HOURS"]
        )
        session.commit()
    return {"Authorization": f"Bearer {issued.token}"}


def multipart(fields: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for a test-client request with a multipart body built in memory.

    Werkzeug's test client spools bodies over 500 kB to a temporary file it never closes (a
    ResourceWarning, an error here); building the body in memory avoids that.
    """

    def part(value: Any) -> Any:
        if isinstance(value, tuple):  # (stream, filename), as the test client takes them
            return FileStorage(
                stream=value[0], filename=value[1], content_type="application/octet-stream"
            )
        return value

    encoded = {
        name: [part(item) for item in value] if isinstance(value, list) else part(value)
        for name, value in fields.items()
    }
    body, _length, boundary = stream_encode_multipart(MultiDict(encoded), use_tempfile=False)
    return {"data": body.read(), "content_type": f"multipart/form-data; boundary={boundary}"}
