"""Portal notifications: who is told of a new case, the inbox, unread counts, marking read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask_babel import force_locale

from app.db import session, utcnow
from app.labels import N_
from app.models import CaseStatus, Notification, OrgKind, Policy, PolicyKind, Vehicle
from app.services import notifications
from tests import factories


class Centre:
    def __init__(self) -> None:
        self.police_org = factories.make_org(OrgKind.POLICE)
        self.committee = factories.make_org(OrgKind.MEDIATION)
        self.insurer = factories.make_org(OrgKind.INSURER)
        self.second_insurer = factories.make_org(OrgKind.INSURER)
        self.adjuster = factories.make_user(self.insurer)
        self.colleague = factories.make_user(self.insurer)
        self.second_adjuster = factories.make_user(self.second_insurer)
        self.other_adjuster = factories.make_user(factories.make_org(OrgKind.INSURER))
        self.police = factories.make_user(self.police_org)
        self.case = factories.make_accident_case(
            police=self.police_org,
            committee=self.committee,
            insurer=self.insurer,
            status=CaseStatus.REPORTED,
        )
        # 乙方's e-bike is insured by a second insurer; a third, unregistered one matches nobody.
        bike = Vehicle(plate="晋J电00001", driver_party_id=self.case.parties[1].id)
        bike.policies.append(
            Policy(
                kind=PolicyKind.CTPI,
                insurer_name=self.second_insurer.name,
                insurer_org_id=self.second_insurer.id,
            )
        )
        bike.policies.append(Policy(kind=PolicyKind.COMMERCIAL, insurer_name="未登记保险公司"))
        self.case.vehicles.append(bike)
        session.commit()


@pytest.fixture
def centre(app: Flask) -> Centre:
    return Centre()


def inbox_of(user: object) -> list[Notification]:
    session.expire_all()
    return notifications.user_notifications(user)  # type: ignore[arg-type]


def send(user: object, text: str = "hello", **params: object) -> Notification:
    (note,) = notifications.notify_users(
        users=[user],  # type: ignore[list-item]
        case=None,
        kind="test",
        message=text,
        **params,
    )
    return note


def test_a_new_case_reaches_the_adjusters_of_every_insurer_on_it_once(centre: Centre) -> None:
    centre.colleague.active = False
    sent = notifications.notify_new_case(centre.case)

    assert {note.user_id for note in sent} == {centre.adjuster.id, centre.second_adjuster.id}
    assert all(note.kind == "case.new" and note.case_id == centre.case.id for note in sent)
    assert sent[0].params == {"number": centre.case.number}
    assert inbox_of(centre.other_adjuster) == []
    assert inbox_of(centre.police) == []

    centre.colleague.active = True
    again = notifications.notify_new_case(centre.case)
    assert [note.user_id for note in again] == [centre.colleague.id]
    assert notifications.notify_new_case(centre.case) == []


def test_a_case_without_registered_insurers_notifies_nobody(centre: Centre) -> None:
    bare = factories.make_case(police=centre.police_org)
    assert notifications.insurer_org_ids(bare) == []
    assert notifications.notify_new_case(bare) == []
    assert notifications.insurer_org_ids(centre.case) == sorted(
        [centre.insurer.id, centre.second_insurer.id]
    )


def test_unread_count_and_marking_read(centre: Centre) -> None:
    first, second, third = (send(centre.adjuster, f"m{i}") for i in range(3))
    theirs = send(centre.colleague)
    second.created_at = utcnow() + timedelta(seconds=5)
    session.flush()

    assert notifications.unread_count(centre.adjuster) == 3
    assert [n.id for n in notifications.user_notifications(centre.adjuster)] == [
        second.id,
        third.id,
        first.id,
    ]
    assert len(notifications.user_notifications(centre.adjuster, limit=2)) == 2

    # Ids of someone else's messages are ignored.
    assert notifications.mark_read(user=centre.adjuster, ids=[first.id, theirs.id]) == 1
    assert notifications.unread_count(centre.adjuster) == 2
    assert notifications.unread_count(centre.colleague) == 1
    unread = notifications.user_notifications(centre.adjuster, unread_only=True)
    assert {n.id for n in unread} == {second.id, third.id}

    assert notifications.mark_read(user=centre.adjuster) == 2
    assert notifications.unread_count(centre.adjuster) == 0
    assert notifications.mark_read(user=centre.adjuster) == 0
    assert notifications.unread_count(centre.colleague) == 1


def test_messages_are_translated_when_shown_with_their_labels(app: Flask, centre: Centre) -> None:
    note = send(
        centre.adjuster,
        N_("Case %(number)s: %(deadline_kind)s is due by %(due)s."),
        number="DJ-2024-000001",
        deadline_kind="insurer_payment",
        due="2024-03-01 18:00",
    )
    with app.test_request_context("/"), force_locale("en"):
        text = notifications.notification_text(note)
    assert text == "Case DJ-2024-000001: Insurer to pay is due by 2024-03-01 18:00."
    broken = send(centre.adjuster, "Case %(number)s is new.")
    assert notifications.notification_text(broken) == "Case %(number)s is new."


# -- the portal -------------------------------------------------------------------------------


def test_the_inbox_page_lists_messages_and_marks_them_read(app: Flask, centre: Centre) -> None:
    notifications.notify_new_case(centre.case)
    send(centre.adjuster, "second message")
    session.commit()
    client = app.test_client()
    factories.login(client, centre.adjuster)

    html = client.get("/cases/").get_data(as_text=True)
    assert 'data-testid="unread-count">2<' in html
    page = client.get("/notifications")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert centre.case.number in html
    assert "second message" in html
    assert html.count('data-read="no"') == 2
    (newest, oldest) = inbox_of(centre.adjuster)
    assert f'href="/notifications/{oldest.id}"' in html  # leads to the page, read once followed

    one = client.post("/notifications/read", data={"id": str(oldest.id)})
    assert one.status_code == 302
    assert notifications.unread_count(centre.adjuster) == 1
    everything = client.post("/notifications/read")
    assert everything.headers["Location"].endswith("/notifications")
    assert notifications.unread_count(centre.adjuster) == 0
    html = client.get("/notifications").get_data(as_text=True)
    assert 'data-testid="unread-count"' not in html
    assert 'data-testid="mark-all-read"' not in html


def test_the_inbox_needs_a_login(app: Flask) -> None:
    assert app.test_client().get("/notifications").headers["Location"].startswith("/login")
    assert "nav-notifications" not in app.test_client().get("/login").get_data(as_text=True)


# -- the API ----------------------------------------------------------------------------------


def test_api_lists_and_marks_the_caller_s_notifications(app: Flask, centre: Centre) -> None:
    first = send(centre.adjuster, "one")
    second = send(centre.adjuster, "two")
    theirs = send(centre.colleague, "theirs")
    session.commit()
    client = app.test_client()
    headers = factories.api_token(client, centre.adjuster)

    body = client.get("/api/v1/notifications", headers=headers).get_json()
    assert body["unread"] == 2
    assert {item["id"] for item in body["items"]} == {first.id, second.id}
    assert body["items"][0]["read"] is False

    marked = client.post(
        "/api/v1/notifications/read", json={"ids": [first.id, theirs.id]}, headers=headers
    )
    assert marked.get_json() == {"marked": 1, "unread": 1}
    unread = client.get("/api/v1/notifications?unread=1", headers=headers).get_json()
    assert [item["id"] for item in unread["items"]] == [second.id]
    for bad in ({"ids": "all"}, {"ids": [True]}, {"ids": ["1"]}):
        answer = client.post("/api/v1/notifications/read", json=bad, headers=headers)
        assert answer.status_code == 422, bad
    garbled = client.post(
        "/api/v1/notifications/read", data="[1,", content_type="application/json", headers=headers
    )
    assert garbled.status_code == 422  # never read as "mark everything"
    assert notifications.unread_count(centre.adjuster) == 1
    assert client.get("/api/v1/notifications?limit=0", headers=headers).status_code == 422
    everything = client.post("/api/v1/notifications/read", headers=headers)
    assert everything.get_json() == {"marked": 1, "unread": 0}
    assert notifications.unread_count(centre.colleague) == 1
    assert app.test_client().get("/api/v1/notifications").status_code == 401
