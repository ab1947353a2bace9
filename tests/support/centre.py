"""The one-stop centre the tests act in, built once per test module.

A test module subclasses `Centre` to add what its tests share (a case in some state, documents,
tokens), builds it once in its module-scoped `world` fixture through `build_world`, and gives
each test `world.for_test()`: a copy whose rows are objects of the test's own session. What a
test changes is rolled back after it; the world stays as it was built.
"""

from __future__ import annotations

from typing import Any, Self

from flask import Flask
from sqlalchemy import inspect

from app.db import Base, session
from app.models import OrgKind
from tests import factories

# The court the centre's tribunal sits for: it heads the tribunal's rulings.
COURT_NAME = "山西省吕梁市离石区人民法院"


class Centre:
    """A police unit, two mediation committees, two insurers, a tribunal and the platform, with
    one user each: police, mediator, other_mediator, adjuster, other_adjuster, judge, admin."""

    def __init__(
        self, app: Flask, *, committee_name: str | None = None, insurer_name: str | None = None
    ) -> None:
        self.app = app
        self.police_org = factories.make_org(OrgKind.POLICE)
        self.committee = factories.make_org(OrgKind.MEDIATION, committee_name)
        self.other_committee = factories.make_org(OrgKind.MEDIATION)
        self.insurer = factories.make_org(OrgKind.INSURER, insurer_name)
        self.other_insurer = factories.make_org(OrgKind.INSURER)
        self.tribunal = factories.make_org(OrgKind.TRIBUNAL)
        self.tribunal.court_name = COURT_NAME
        self.platform = factories.make_org(OrgKind.PLATFORM)
        self.police = factories.make_user(self.police_org)
        self.mediator = factories.make_user(self.committee)
        self.other_mediator = factories.make_user(self.other_committee)
        self.adjuster = factories.make_user(self.insurer)
        self.other_adjuster = factories.make_user(self.other_insurer)
        self.judge = factories.make_user(self.tribunal)
        self.admin = factories.make_user(self.platform)

    def for_test(self) -> Self:
        """This world as a test sees it: rows reloaded into the test's session, containers
        copied (what a test adds to a cache is rolled back with it)."""
        copy = object.__new__(type(self))
        copy.__dict__.update({name: _attach(value) for name, value in vars(self).items()})
        return copy


def _attach(value: Any) -> Any:
    if isinstance(value, Base):
        return session.get(type(value), inspect(value).identity)
    if isinstance(value, list):
        return [_attach(item) for item in value]
    if isinstance(value, dict):
        return {key: _attach(item) for key, item in value.items()}
    return value
