"""Pages stay bounded whatever the number of cases: each shows a page, never every case."""

from __future__ import annotations

import pytest
from flask import Flask

from app.db import session
from app.models import CaseStatus, OrgKind
from blueprints import tribunal as tribunal_views
from tests import factories


def test_the_tribunal_lists_the_applications_waiting_longest_and_links_the_rest(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    police = factories.make_org(OrgKind.POLICE)
    tribunal = factories.make_org(OrgKind.TRIBUNAL)
    judge = factories.make_user(tribunal)
    waiting = [
        factories.make_case(police=police, status=CaseStatus.CONFIRMING, tribunal=tribunal)
        for _ in range(3)
    ]
    session.commit()
    monkeypatch.setattr(tribunal_views, "LIST_LIMIT", 2)
    client = app.test_client()
    factories.login(client, judge)

    page = client.get("/tribunal/").get_data(as_text=True)

    assert f'data-case-id="{waiting[0].id}"' in page  # the oldest first
    assert f'data-case-id="{waiting[1].id}"' in page
    assert f'data-case-id="{waiting[2].id}"' not in page
    assert 'data-testid="more-confirming-cases"' in page
    assert 'href="/cases/?status=confirming"' in page
