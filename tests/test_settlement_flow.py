"""A finished case shows no form that could not succeed, and a post to one answers with the
reason the case gives (issue 13)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.db import session, utcnow
from app.models import Case, CaseStatus, OfferStatus, User
from app.services import mediation, offers
from tests import factories
from tests.test_offers import VICTIM
from tests.test_offers import Centre as NegotiationCentre

CLAIMS_CLOSED = "本案已结案，不能再修改索赔。"
OFFERS_CLOSED = "本案已结案，不能再提出、答复或撤回报价。"


class Centre(NegotiationCentre):
    """A negotiated case with an open offer and a mediation session, then closed."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.open_offer = offers.make_offer(
            actor=self.adjuster, case=self.case, payer="ctpi:甲方", amount="1000"
        )
        mediation.schedule_session(
            actor=self.mediator,
            case=self.case,
            starts_at=utcnow() + timedelta(days=1),
            place="调解室",
        )
        self.case.status = CaseStatus.CLOSED
        for user in (self.mediator, self.adjuster):
            user.locale = "zh"
        session.commit()


@pytest.fixture(scope="module")
def world(build_world: Callable[..., Centre]) -> Centre:
    return build_world(Centre)


@pytest.fixture
def centre(app: Flask, world: Centre) -> Centre:
    return world.for_test()


def portal(centre: Centre, user: User) -> FlaskClient:
    client = centre.app.test_client()
    factories.login(client, user)
    return client


def post_forms(page: str) -> list[str]:
    """The actions of the page's post forms, but the navigation bar's log-out."""
    forms = re.findall(r"<form\b[^>]*>", page)
    actions = [
        (re.search(r'action="([^"]*)"', tag) or [None, "(this page)"])[1]
        for tag in forms
        if 'method="post"' in tag
    ]
    return [action for action in actions if not action.endswith("/logout")]


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/claims",
        "/claims/victims/new",
        "/claims/victims/v1",
        "/offers",
        "/mediation",
        "/assessment",
    ],
)
@pytest.mark.parametrize("role", ["mediator", "adjuster"])
def test_a_closed_case_shows_no_forms(centre: Centre, path: str, role: str) -> None:
    client = portal(centre, getattr(centre, role))
    response = client.get(f"/cases/{centre.case.id}{path}")
    if role == "adjuster" and path.startswith("/claims"):
        assert response.status_code == 403  # the claims are the mediator's
        return
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert post_forms(response.get_data(as_text=True)) == []


def test_the_claims_pages_say_why(centre: Centre) -> None:
    client = portal(centre, centre.mediator)
    for path in ("/claims", "/claims/victims/new"):
        page = client.get(f"/cases/{centre.case.id}{path}").get_data(as_text=True)
        assert 'data-testid="claims-closed"' in page
        assert CLAIMS_CLOSED in page


def test_posts_to_the_claims_of_a_closed_case_answer_why(centre: Centre) -> None:
    client = portal(centre, centre.mediator)
    version = str(centre.reload().version)
    victim = {
        "version": version,
        "who": "party:乙方",
        "age": "35",
        "residence": "urban",
        "outcome": "injury",
        "medical-0-amount": "100",
    }
    for path, data in (
        ("/claims/victims/new", victim),
        ("/claims/victims/v1", victim),
        ("/claims", {"version": version, "share_rounding": "exact"}),
        ("/claims/victims/v1/remove", {"version": version}),
    ):
        response = client.post(f"/cases/{centre.case.id}{path}", data=data)
        assert response.status_code == 409, path
        assert CLAIMS_CLOSED in response.get_data(as_text=True), path
    api = centre.app.test_client().put(
        f"/api/v1/cases/{centre.case.id}/claims",
        json={"victims": [VICTIM], "version": centre.reload().version},
        headers=centre.headers(centre.mediator),
    )
    assert api.status_code == 409
    assert api.get_json()["error"]["code"] == "claims_closed"


def test_posts_to_the_offers_of_a_closed_case_answer_why(centre: Centre) -> None:
    offer_id = centre.open_offer.id
    version = str(centre.reload().version)
    mediator = portal(centre, centre.mediator)
    adjuster = portal(centre, centre.adjuster)
    for client, path, data in (
        (adjuster, "/offers", {"version": version, "payer": "ctpi:甲方", "amount": "1"}),
        (mediator, f"/offers/{offer_id}/accept", {"version": version}),
        (adjuster, f"/offers/{offer_id}/withdraw", {"version": version}),
    ):
        response = client.post(f"/cases/{centre.case.id}{path}", data=data)
        assert response.status_code == 409, path
        assert OFFERS_CLOSED in response.get_data(as_text=True), path
    session.expire_all()
    assert session.get(type(centre.open_offer), offer_id).status == OfferStatus.OPEN


def test_evidence_cannot_be_added_to_a_closed_case(centre: Centre) -> None:
    client = portal(centre, centre.mediator)
    response = client.post(
        f"/cases/{centre.case.id}/documents",
        **factories.multipart(
            {"kind": "medical_bill", "files": (io.BytesIO(b"%PDF-1.4 late"), "迟到.pdf")}
        ),
    )
    assert response.status_code == 409
    assert session.get(Case, centre.case.id).status == CaseStatus.CLOSED
