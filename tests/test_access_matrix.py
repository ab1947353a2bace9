"""Every route × every role × own or other organisation's case: who reaches what (DESIGN.md §1).

`ACCESS` is the one table of expected answers. `test_every_route_is_in_the_access_table` fails
when a route, or one of its methods, is missing from it: whoever adds a route adds its row here.

Hashing a password costs up to half a second on a busy machine, so the world (organisations, one
user per role, cases, jobs, logins and tokens) is built once per module inside a transaction that
is rolled back at the end, and each test runs in a savepoint of its own, rolled back after it.
Nothing commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import Connection, select
from werkzeug.test import TestResponse

from app import jobs, validation
from app.db import session
from app.models import AuditEvent, Case, CaseStatus, Organization, OrgKind, User
from app.services import documents
from tests.factories import api_token, login, make_case, make_org, make_user
from tests.support.servers import rolled_back

SESSION_COOKIE = "daojiao_session"
IGNORED_ENDPOINTS = {"static", "bootstrap.static"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Redirect:
    """A 302 to this path."""

    path: str


LOGIN = Redirect("/login")
HOME = Redirect("/cases/")
BACK = Redirect("/")  # the language switch goes back home when there is no referrer
# The guard lets the caller through (no 401, 403, login redirect or server error); used for the
# admin forms, whose answer to an empty POST depends on the form, not on access.
PASSES = "passes"

Outcome = int | Redirect | str | dict[str, int]

ROLES = ("anonymous", "police", "adjuster", "mediator", "judge", "admin", "supervisor", "regulator")
USER_ROLES = ROLES[1:]
# The regulator oversees insurers through figures only: it opens no case file, so every
# case-bound route refuses it (403) before looking the case up, whichever case it names.
CASE_FILE_ROLES = tuple(role for role in USER_ROLES if role != "regulator")
ORG_KIND = {
    "police": OrgKind.POLICE,
    "adjuster": OrgKind.INSURER,
    "mediator": OrgKind.MEDIATION,
    "judge": OrgKind.TRIBUNAL,
    "admin": OrgKind.PLATFORM,
    "supervisor": OrgKind.SUPERVISION,
    "regulator": OrgKind.REGULATOR,
}
# Every organisation of side A serves REGION["A"], of side B REGION["B"]; a case's region is its
# reporting police unit's (as intake sets it).
REGION = {"A": "吕梁市离石区", "B": "太原市小店区"}

# The world's cases. "A" is the callers' own organisation of that kind, "B" another one of the
# same kind, None none: (status, reporting police unit, insurer on a policy, committee, tribunal).
# The reporting unit's side is the case's region too: the overseers of region A see its cases.
CASES: dict[str, tuple[CaseStatus, str, str | None, str | None, str | None]] = {
    "reported_here": (CaseStatus.CONFIRMING, "A", "B", "B", "B"),
    "insured_here": (CaseStatus.REPORTED, "B", "A", None, None),
    "mediated_here": (CaseStatus.NEGOTIATING, "B", "B", "A", None),
    "judged_here": (CaseStatus.CONFIRMING, "B", "B", "B", "A"),
    "elsewhere": (CaseStatus.CONFIRMING, "B", "B", "B", "B"),
    # Police see their own drafts; an insurer sees a case only once the police confirmed it.
    "draft_insured_here": (CaseStatus.DRAFT, "A", "A", None, None),
    "withdrawn_insured_here": (CaseStatus.WITHDRAWN, "A", "A", None, None),
    # Insured and mediated here, but no confirmation request went to any tribunal yet.
    "no_tribunal": (CaseStatus.NEGOTIATING, "B", "A", "A", None),
}
MISSING = "missing"  # an id no case (and no job) has: 404 for everyone, not logged as denied

# Which of the world's cases each role sees; any other case answers 404, never 403.
SEES: dict[str, tuple[str, ...]] = {
    "police": ("reported_here", "draft_insured_here", "withdrawn_insured_here"),
    "adjuster": ("insured_here", "no_tribunal"),
    "mediator": ("mediated_here", "no_tribunal"),
    "judge": ("judged_here",),
    "admin": tuple(CASES),
    # The region's cases but its drafts (not a case until the police confirm them).
    "supervisor": ("reported_here", "withdrawn_insured_here"),
    "regulator": (),
}


def by_case(role: str, *, object_first: bool = False) -> dict[str, int]:
    """The answer for each case of the world (or its job): 200 if `role` sees it, else 404.
    A role that opens no case file is refused (403) on each, and on a missing id too unless
    the route looks its own object (a job, a document) up before the case (`object_first`)."""
    if role not in CASE_FILE_ROLES:
        return {**dict.fromkeys(CASES, 403), MISSING: 404 if object_first else 403}
    answers = {key: 200 if key in SEES[role] else 404 for key in CASES}
    return {**answers, MISSING: 404}


def row(*outcomes: Outcome) -> dict[str, Outcome]:
    """One line of the table, in the order of ROLES."""
    return dict(zip(ROLES, outcomes, strict=True))


def only(roles: tuple[str, ...], allowed: int, role: str, denied: int = 403) -> Outcome:
    """`allowed` on the cases `role` sees if it is one of `roles`; else 404 (cases it cannot
    see) or `denied` for the cases it sees but may not act on."""
    if role not in CASE_FILE_ROLES:
        return 403
    answers = {
        key: (allowed if role in roles else denied) if key in SEES[role] else 404 for key in CASES
    }
    return {**answers, MISSING: 404}


def role_guarded(roles: tuple[str, ...], allowed: int) -> tuple[Outcome, ...]:
    """A blueprint guarded for `roles`: others get 403 before any case is looked up."""
    return tuple(
        {**{key: allowed if key in SEES[role] else 404 for key in CASES}, MISSING: 404}
        if role in roles
        else 403
        for role in USER_ROLES
    )


def passes_where_seen(roles: tuple[str, ...], role: str) -> Outcome:
    """The guard lets `roles` through on the cases they see (the answer then depends on the
    case's data, e.g. 404 for a victim or an assessment it does not have); others are denied."""
    if role not in roles or role not in CASE_FILE_ROLES:
        return only((), 0, role)
    return {**{key: PASSES if key in SEES[role] else 404 for key in CASES}, MISSING: 404}


BY_CASE = tuple(by_case(role) for role in USER_ROLES)
BY_OBJECT = tuple(by_case(role, object_first=True) for role in USER_ROLES)
POLICE_OR_MEDIATOR = ("police", "mediator")
MEDIATOR = ("mediator",)
MEDIATOR_OR_JUDGE = ("mediator", "judge")
NEED_ID_NUMBERS = ("police", "mediator", "judge", "admin")
ADMIN_ONLY_PAGE = row(LOGIN, 403, 403, 403, 403, 200, 403, 403)
ADMIN_ONLY_FORM = row(LOGIN, 403, 403, 403, 403, PASSES, 403, 403)

# endpoint → method → role → expected answer.
ACCESS: dict[str, dict[str, dict[str, Outcome]]] = {
    # ------------ anonymous, police, adjuster, mediator, judge, admin, supervisor, regulator
    # Signed-in users get their desk: what waits on them and their new notifications.
    # The overseers, who have no tasks, get a short page leading to the figures.
    "main.home": {"GET": row(LOGIN, *[200] * 7)},
    "main.set_language": {"GET": row(*[BACK] * 8)},
    "main.health": {"GET": row(*[200] * 8)},
    # Prometheus metrics: platform admins (or the scraper's METRICS_TOKEN); for anyone else the
    # endpoint does not exist.
    "metrics.scrape": {"GET": row(404, 404, 404, 404, 404, 200, 404, 404)},
    # An empty login form is refused as input (400), whoever sends it.
    "auth.login": {"GET": row(*[200] * 8), "POST": row(*[400] * 8)},
    "auth.logout": {"POST": row(*[LOGIN] * 8)},
    "auth.change_password": {"GET": row(LOGIN, *[200] * 7), "POST": row(LOGIN, *[400] * 7)},
    # The regulator has no case list: its figures are on the statistics pages.
    "cases.index": {"GET": row(LOGIN, 200, 200, 200, 200, 200, 200, 403)},
    "cases.show": {"GET": row(LOGIN, *BY_CASE)},
    # An empty evidence form is refused as input (400) once the caller may add evidence.
    "cases.attach": {"POST": row(LOGIN, *(only(POLICE_OR_MEDIATOR, 400, r) for r in USER_ROLES))},
    "cases.reveal_id_number": {
        "POST": row(LOGIN, *(only(NEED_ID_NUMBERS, 200, r) for r in USER_ROLES))
    },
    "documents.content": {"GET": row(LOGIN, *BY_OBJECT)},
    # claims and assessments: the world's cases have none filed yet.
    "assessments.show": {"GET": row(LOGIN, *BY_CASE)},
    # With no victim yet, the claims page leads the mediator into the first one.
    "assessments.claims": {"GET": row(LOGIN, *(only(MEDIATOR, 302, r) for r in USER_ROLES))},
    "assessments.save_settings": {
        "POST": row(LOGIN, *(only(MEDIATOR, 400, r) for r in USER_ROLES))
    },
    "assessments.new_victim": {
        "GET": row(LOGIN, *(only(MEDIATOR, 200, r) for r in USER_ROLES)),
        "POST": row(LOGIN, *(only(MEDIATOR, 400, r) for r in USER_ROLES)),
    },
    "assessments.victim": {
        "GET": row(LOGIN, *(passes_where_seen(MEDIATOR, r) for r in USER_ROLES)),
        "POST": row(LOGIN, *(passes_where_seen(MEDIATOR, r) for r in USER_ROLES)),
    },
    "assessments.remove_victim": {
        "POST": row(LOGIN, *(passes_where_seen(MEDIATOR, r) for r in USER_ROLES))
    },
    # Served in the demo only: the suite runs in testing mode.
    "police.sample_letter": {"GET": row(LOGIN, 404, *[403] * 6)},
    "police.upload": {"GET": row(LOGIN, 200, *[403] * 6), "POST": row(LOGIN, 400, *[403] * 6)},
    # The world's cases have no uploaded letter: the review page sends police to the case page.
    "police.review": {
        "GET": row(LOGIN, *role_guarded(("police",), 302)),
        "POST": row(LOGIN, *role_guarded(("police",), 302)),
    },
    "admin.organizations": {"GET": ADMIN_ONLY_PAGE, "POST": ADMIN_ONLY_FORM},
    "admin.organization": {"GET": ADMIN_ONLY_PAGE, "POST": ADMIN_ONLY_FORM},
    "admin.users": {"GET": ADMIN_ONLY_PAGE, "POST": ADMIN_ONLY_FORM},
    "admin.user": {"GET": ADMIN_ONLY_PAGE, "POST": ADMIN_ONLY_FORM},
    "admin.user_unlock": {"POST": ADMIN_ONLY_FORM},
    "admin.audit_log": {"GET": ADMIN_ONLY_PAGE},
    # standards: the edit page shows a packaged year (World.arguments: shanxi 2023).
    "admin.standards": {"GET": ADMIN_ONLY_PAGE},
    "admin.standards_edit": {"GET": ADMIN_ONLY_PAGE, "POST": ADMIN_ONLY_FORM},
    "admin.standards_new": {"GET": ADMIN_ONLY_PAGE, "POST": ADMIN_ONLY_FORM},
    "api.openapi": {"GET": row(*[200] * 8)},
    # Public: an empty body is refused as input (422), never as a caller (401).
    "api.issue_token": {"POST": row(*[422] * 8)},
    "api.revoke_token": {"DELETE": row(401, *[204] * 7)},
    "api.me": {"GET": row(401, *[200] * 7)},
    "api.list_cases": {"GET": row(401, 200, 200, 200, 200, 200, 200, 403)},
    "api.get_case": {"GET": row(401, *BY_CASE)},
    "api.get_job": {"GET": row(401, *BY_OBJECT)},
    # No `report` file: refused as input (422) once the caller may upload.
    "api.create_case": {"POST": row(401, 422, *[403] * 6)},
    # None of the world's cases is a draft with a letter: 409 once the caller may act.
    "api.confirm_case": {"POST": row(401, *(only(("police",), 409, r) for r in USER_ROLES))},
    "api.withdraw_case": {"POST": row(401, *(only(("police",), 409, r) for r in USER_ROLES))},
    "api.list_documents": {"GET": row(401, *BY_CASE)},
    "api.list_actions": {"GET": row(401, *BY_CASE)},
    "api.add_documents": {
        "POST": row(401, *(only(POLICE_OR_MEDIATOR, 422, r) for r in USER_ROLES))
    },
    "api.document_content": {"GET": row(401, *BY_OBJECT)},
    # No body: refused as input (422) once the caller may act.
    "api.file_claims": {"PUT": row(401, *(only(MEDIATOR, 422, r) for r in USER_ROLES))},
    "api.get_claims": {"GET": row(401, *(passes_where_seen(USER_ROLES, r) for r in USER_ROLES))},
    "api.get_assessment": {
        "GET": row(401, *(passes_where_seen(USER_ROLES, r) for r in USER_ROLES))
    },
    "api.list_assessments": {"GET": row(401, *BY_CASE)},
    "api.what_if": {"POST": row(401, *(only(MEDIATOR_OR_JUDGE, 422, r) for r in USER_ROLES))},
    "api.reveal_id_number": {
        "POST": row(401, *(only(NEED_ID_NUMBERS, 200, r) for r in USER_ROLES))
    },
    # -- offers
    # The world's cases have no assessment and no offers: the trail is empty for whoever sees
    # the case; adjusters and mediators get past the role check, then an offer on a case with
    # no assessment is refused as a conflict and an answer to an offer the case does not have
    # is not found.
    "offers.index": {"GET": row(LOGIN, *BY_CASE)},
    "offers.make": {
        "POST": row(LOGIN, *(only(("adjuster", "mediator"), 409, r) for r in USER_ROLES))
    },
    "offers.accept": {
        "POST": row(LOGIN, *(passes_where_seen(("adjuster", "mediator"), r) for r in USER_ROLES))
    },
    "offers.reject": {
        "POST": row(LOGIN, *(passes_where_seen(("adjuster", "mediator"), r) for r in USER_ROLES))
    },
    "offers.withdraw": {
        "POST": row(LOGIN, *(passes_where_seen(("adjuster", "mediator"), r) for r in USER_ROLES))
    },
    "api.list_offers": {"GET": row(401, *BY_CASE)},
    "api.make_offer": {
        "POST": row(401, *(only(("adjuster", "mediator"), 422, r) for r in USER_ROLES))
    },
    "api.accept_offer": {
        "POST": row(401, *(passes_where_seen(("adjuster", "mediator"), r) for r in USER_ROLES))
    },
    "api.reject_offer": {
        "POST": row(401, *(passes_where_seen(("adjuster", "mediator"), r) for r in USER_ROLES))
    },
    "api.withdraw_offer": {
        "POST": row(401, *(passes_where_seen(("adjuster", "mediator"), r) for r in USER_ROLES))
    },
    # -- settlement agreement
    # The world's cases have no agreement: the page says so, the API answers 404 for it.
    "agreements.show": {"GET": row(LOGIN, *BY_CASE)},
    # An empty form is refused as input (400) once the caller may act.
    "agreements.draft": {"POST": row(LOGIN, *(only(MEDIATOR, 400, r) for r in USER_ROLES))},
    "agreements.sign": {"POST": row(LOGIN, *(only(MEDIATOR, 400, r) for r in USER_ROLES))},
    "api.get_agreement": {"GET": row(401, *(passes_where_seen(USER_ROLES, r) for r in USER_ROLES))},
    # No body (no payment method, no scan): refused as input (422) once the caller may act.
    "api.draft_agreement": {"POST": row(401, *(only(MEDIATOR, 422, r) for r in USER_ROLES))},
    "api.sign_agreement": {"POST": row(401, *(only(MEDIATOR, 422, r) for r in USER_ROLES))},
    # -- insurer desk and payments
    # The desk is the adjusters' own; claim data belongs to an adjuster of an insurer on the case
    # (an empty form or body is refused as input). The world's cases have no signed agreement:
    # the payments page is empty for whoever sees the case, and an empty payment is refused as
    # input once the caller may record payments (adjusters, mediators).
    "insurer.desk": {"GET": row(LOGIN, 403, 200, 403, 403, 403, 403, 403)},
    "insurer.claim": {"GET": row(LOGIN, *(only(("adjuster",), 200, r) for r in USER_ROLES))},
    "insurer.save_claim": {"POST": row(LOGIN, *(only(("adjuster",), 400, r) for r in USER_ROLES))},
    "insurer.payments_page": {"GET": row(LOGIN, *BY_CASE)},
    "insurer.record_payment": {
        "POST": row(LOGIN, *(only(("adjuster", "mediator"), 400, r) for r in USER_ROLES))
    },
    "api.insurer_desk": {"GET": row(401, 403, 200, 403, 403, 403, 403, 403)},
    "api.get_insurer_claim": {"GET": row(401, *(only(("adjuster",), 200, r) for r in USER_ROLES))},
    "api.save_insurer_claim": {"PUT": row(401, *(only(("adjuster",), 422, r) for r in USER_ROLES))},
    "api.payment_status": {"GET": row(401, *BY_CASE)},
    "api.record_payment": {
        "POST": row(401, *(only(("adjuster", "mediator"), 422, r) for r in USER_ROLES))
    },
    # -- mediation, deadlines and notifications
    # Committee A has one mediator and committee B none: assigning the least busy mediator
    # succeeds on A's cases and is refused as a conflict (409) on the others. The world's cases
    # have no sessions; an empty form or body is refused as input once the caller may act.
    "mediation.show": {"GET": row(LOGIN, *BY_CASE)},
    "mediation.assign": {
        "POST": row(LOGIN, *(passes_where_seen(("mediator", "admin"), r) for r in USER_ROLES))
    },
    "mediation.schedule": {"POST": row(LOGIN, *(only(MEDIATOR, 400, r) for r in USER_ROLES))},
    "mediation.notes": {"POST": row(LOGIN, *(only(MEDIATOR, 400, r) for r in USER_ROLES))},
    "mediation.fail": {"POST": row(LOGIN, *(only(MEDIATOR, 400, r) for r in USER_ROLES))},
    # Deciding the liability a letter left open: an empty form or body is refused as input once
    # the caller may act (mediators on their committee's cases; 403 for every other role).
    "mediation.decide_liability": {
        "POST": row(LOGIN, *(only(MEDIATOR, 400, r) for r in USER_ROLES))
    },
    "api.decide_liability": {"PUT": row(401, *(only(MEDIATOR, 422, r) for r in USER_ROLES))},
    "notifications.index": {"GET": row(LOGIN, *[200] * 7)},
    "notifications.mark_read": {"POST": row(LOGIN, *[Redirect("/notifications")] * 7)},
    # Only one's own message is followed: no message 0 exists for anyone.
    "notifications.open_notification": {"GET": row(LOGIN, *[404] * 7)},
    "api.mediation_assign": {
        "POST": row(401, *(passes_where_seen(("mediator", "admin"), r) for r in USER_ROLES))
    },
    "api.mediation_sessions": {"GET": row(401, *BY_CASE)},
    "api.mediation_schedule_session": {
        "POST": row(401, *(only(MEDIATOR, 422, r) for r in USER_ROLES))
    },
    "api.mediation_session_notes": {
        "POST": row(401, *(only(MEDIATOR, 422, r) for r in USER_ROLES))
    },
    "api.mediation_fail": {"POST": row(401, *(only(MEDIATOR, 422, r) for r in USER_ROLES))},
    "api.case_deadlines": {"GET": row(401, *BY_CASE)},
    # Deadlines are read on the cases one opens: none for the regulator.
    "api.waiting_deadlines": {"GET": row(401, 200, 200, 200, 200, 200, 200, 403)},
    "api.list_notifications": {"GET": row(401, *[200] * 7)},
    "api.read_notifications": {"POST": row(401, *[200] * 7)},
    # The mediator's button on the agreement page: none of the world's cases is agreed, so the
    # service refuses and the page redirects back with the reason.
    "agreements.request_confirmation": {
        "POST": row(LOGIN, *(only(MEDIATOR, 302, r) for r in USER_ROLES))
    },
    # -- tribunal
    # The desk is the judges' (and admins') own. The world's confirming cases have no
    # application row and no agreement: the workbench shows what there is; accepting is a
    # conflict (409), an empty form or body is refused as input, once the caller may act.
    "tribunal.index": {"GET": row(LOGIN, 403, 403, 403, 200, 200, 403, 403)},
    "tribunal.workbench": {"GET": row(LOGIN, *role_guarded(("judge", "admin"), 200))},
    "tribunal.accept": {
        "POST": row(
            LOGIN, 403, 403, 403, only(("judge",), 409, "judge"), only((), 0, "admin"), 403, 403
        )
    },
    "tribunal.extend": {
        "POST": row(
            LOGIN, 403, 403, 403, only(("judge",), 400, "judge"), only((), 0, "admin"), 403, 403
        )
    },
    "tribunal.decide": {
        "POST": row(
            LOGIN, 403, 403, 403, only(("judge",), 400, "judge"), only((), 0, "admin"), 403, 403
        )
    },
    "api.request_confirmation": {"POST": row(401, *(only(MEDIATOR, 409, r) for r in USER_ROLES))},
    "api.get_confirmation": {
        "GET": row(401, *(passes_where_seen(USER_ROLES, r) for r in USER_ROLES))
    },
    "api.accept_confirmation": {"POST": row(401, *(only(("judge",), 409, r) for r in USER_ROLES))},
    "api.extend_confirmation": {"POST": row(401, *(only(("judge",), 422, r) for r in USER_ROLES))},
    "api.decide_confirmation": {"POST": row(401, *(only(("judge",), 422, r) for r in USER_ROLES))},
    # -- oversight figures: admins and the overseers (the regulator's insurer-conduct figures
    # only); with no filter, the default period. The workbook is the export's default format.
    "stats.index": {"GET": row(LOGIN, 403, 403, 403, 403, 200, 200, 200)},
    "stats.export": {"GET": row(LOGIN, 403, 403, 403, 403, 200, 200, 200)},
    "api.stats_figures": {"GET": row(401, 403, 403, 403, 403, 200, 200, 200)},
    # -- monthly reports: admins (all) and supervisors (their organisation's); none is made.
    "reports.monthly": {"GET": row(LOGIN, 403, 403, 403, 403, 200, 200, 403)},
    "reports.download": {"GET": row(LOGIN, 403, 403, 403, 403, 404, 404, 403)},
    # -- late-payment referrals: the list to admins and the overseers; a referral issued by an
    # admin or the committee (an empty choice is refused back to the list); no referral exists.
    "oversight.late_payments": {"GET": row(LOGIN, 403, 403, 403, 403, 200, 200, 200)},
    "oversight.issue": {
        "POST": row(LOGIN, 403, 403, 403, 403, *[Redirect("/oversight/late-payments")] * 2, 403)
    },
    "oversight.referral_list": {"GET": row(LOGIN, 403, 403, 403, 403, 200, 200, 200)},
    "oversight.referral_pdf": {"GET": row(LOGIN, 403, 403, 403, 403, 404, 404, 404)},
    "api.oversight_late_payments": {"GET": row(401, 403, 403, 403, 403, 200, 200, 200)},
    # -- litigation and closure
    # None of the world's cases is in litigation or paid: whoever may build a filing package
    # (the committee's mediators, the tribunal's judges, admins) or close a case (mediators,
    # admins) gets past the role check and is refused as a conflict (409). No case has a
    # package: the API answers 404 for it, the page says so.
    "litigation.show": {"GET": row(LOGIN, *BY_CASE)},
    "litigation.build_package": {
        "POST": row(LOGIN, *(only(("mediator", "judge", "admin"), 409, r) for r in USER_ROLES))
    },
    "litigation.close_page": {
        "GET": row(LOGIN, *(only(("mediator", "admin"), 200, r) for r in USER_ROLES))
    },
    "litigation.close": {
        "POST": row(LOGIN, *(only(("mediator", "admin"), 409, r) for r in USER_ROLES))
    },
    "api.request_filing_package": {
        "POST": row(401, *(only(("mediator", "judge", "admin"), 409, r) for r in USER_ROLES))
    },
    "api.get_filing_package": {
        "GET": row(401, *(passes_where_seen(USER_ROLES, r) for r in USER_ROLES))
    },
    "api.close_case": {
        "POST": row(401, *(only(("mediator", "admin"), 409, r) for r in USER_ROLES))
    },
}

# Request bodies of routes that need one to reach their access decision.
BODIES: dict[str, dict[str, Any]] = {"api.issue_token": {"json": {}}}


def _cells() -> Iterator[Any]:
    for endpoint, methods in ACCESS.items():
        for method, by_role in methods.items():
            for role in by_role:
                yield pytest.param(endpoint, method, role, id=f"{endpoint}-{method}-{role}")


# ---------------------------------------------------------------------------------------------
# The world


@dataclass
class World:
    app: Flask
    connection: Connection
    users: dict[str, User] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    case_ids: dict[str, int] = field(default_factory=dict)
    job_ids: dict[str, int] = field(default_factory=dict)
    document_ids: dict[str, int] = field(default_factory=dict)
    party_ids: dict[str, int] = field(default_factory=dict)
    subject_org_id: int = 0
    subject_user_id: int = 0

    def arguments(self, endpoint: str, key: str | None) -> dict[str, Any]:
        """Values for the variable parts of the endpoint's URL; `key` names a world's case."""
        (rule,) = self.app.url_map.iter_rules(endpoint)
        values = {
            "case_id": self.case_ids.get(key or "", 0),
            "job_id": self.job_ids.get(key or "", 0),
            "document_id": self.document_ids.get(key or "", 0),
            "party_id": self.party_ids.get(key or "", 0),
            "org_id": self.subject_org_id,
            "user_id": self.subject_user_id,
            "code": "en",
            "jurisdiction": "shanxi",
            "year": 2023,
            "victim_id": "v1",
            "offer_id": 0,
            "notification_id": 0,
            "referral_id": 0,
            "month": "2026-11",
            "body": "platform",
            "extension": "pdf",
        }
        unknown = rule.arguments - values.keys()
        assert not unknown, f"teach World.arguments to fill {sorted(unknown)} of {rule.rule}"
        return {name: values[name] for name in rule.arguments}

    def url(self, endpoint: str, method: str, key: str | None = None) -> str:
        adapter = self.app.url_map.bind("localhost")
        return adapter.build(endpoint, self.arguments(endpoint, key), method=method)

    def call(self, role: str, endpoint: str, method: str, key: str | None = None) -> TestResponse:
        """One request as `role`: the portal by session cookie, the API by bearer token."""
        client = self.app.test_client()
        headers = {}
        if role != "anonymous":
            if endpoint.startswith("api."):
                headers["Authorization"] = f"Bearer {self.tokens[role]}"
            else:
                client.set_cookie(SESSION_COOKIE, self.cookies[role])
        path = self.url(endpoint, method, key)
        body = dict(BODIES.get(endpoint, {}))
        case = self._case(endpoint, key) if method != "GET" else None
        if case is not None:
            # Writes name the case version they were made from (else 428, whoever asks).
            if endpoint.startswith("api."):
                headers["If-Match"] = validation.case_etag(case)
            elif "json" not in body:
                body["data"] = {**body.get("data", {}), "version": str(case.version)}
        return client.open(path, method=method, headers=headers, **body)

    def _case(self, endpoint: str, key: str | None) -> Case | None:
        case_id = self.arguments(endpoint, key).get("case_id")
        return session.get(Case, case_id) if case_id is not None else None


def _build_world(flask_app: Flask, connection: Connection) -> World:
    world = World(flask_app, connection)
    orgs: dict[tuple[str, str], Organization] = {
        (role, side): make_org(ORG_KIND[role], region=REGION[side])
        for role in USER_ROLES
        for side in "AB"
    }
    for role in USER_ROLES:
        world.users[role] = make_user(orgs[role, "A"])
    world.subject_org_id = orgs["police", "A"].id
    world.subject_user_id = world.users["police"].id

    def org(role: str, side: str | None) -> Organization | None:
        return orgs[role, side] if side else None

    for key, (status, police, insurer, committee, tribunal) in CASES.items():
        case = make_case(
            police=orgs["police", police],
            status=status,
            insurer=org("adjuster", insurer),
            committee=org("mediator", committee),
            tribunal=org("judge", tribunal),
            region=REGION[police],
        )
        world.case_ids[key] = case.id
        world.party_ids[key] = case.parties[0].id
        world.job_ids[key] = jobs.schedule("test.slow_effect", subject_id=1, case_id=case.id).id
        world.document_ids[key] = documents.store_document(
            actor=None,
            case=case,
            kind="photo",
            data=f"photo of {key}".encode(),
            media_type="image/png",
            filename=f"{key}.png",
        ).id
    for ids in (world.case_ids, world.job_ids, world.document_ids, world.party_ids):
        ids[MISSING] = max(ids.values()) + 1000
    session.flush()

    for role, user in world.users.items():
        client = flask_app.test_client()
        login(client, user)
        world.tokens[role] = api_token(client, user)["Authorization"].removeprefix("Bearer ")
        cookie = client.get_cookie(SESSION_COOKIE)
        assert cookie is not None
        world.cookies[role] = cookie.value
    return world


@pytest.fixture(scope="module")
def matrix_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """An app of this module's own, so that no other fixture rebinds its database."""
    flask_app = make_app()
    yield flask_app
    flask_app.extensions["daojiao.db"].engine.dispose()


@pytest.fixture(scope="module")
def module_world(matrix_app: Flask) -> Iterator[World]:
    """The world, built once inside a transaction that is rolled back after the module."""
    with rolled_back(matrix_app) as connection:
        yield _build_world(matrix_app, connection)


@pytest.fixture
def world(module_world: World) -> Iterator[World]:
    """The world, with whatever this test changes rolled back after it."""
    savepoint = module_world.connection.begin_nested()
    session.expire_all()
    try:
        yield module_world
    finally:
        savepoint.rollback()
        session.expire_all()


# ---------------------------------------------------------------------------------------------
# The table is complete


def _routes(flask_app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in flask_app.url_map.iter_rules()
        if rule.endpoint not in IGNORED_ENDPOINTS
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_every_route_is_in_the_access_table(matrix_app: Flask) -> None:
    in_table = {(endpoint, method) for endpoint, methods in ACCESS.items() for method in methods}
    missing = sorted(_routes(matrix_app) - in_table)
    assert not missing, f"add these routes to ACCESS in {__file__}: {missing}"


def test_access_table_names_only_existing_routes(matrix_app: Flask) -> None:
    in_table = {(endpoint, method) for endpoint, methods in ACCESS.items() for method in methods}
    assert not sorted(in_table - _routes(matrix_app))


def test_access_table_gives_every_role_an_answer() -> None:
    for methods in ACCESS.values():
        for by_role in methods.values():
            assert tuple(by_role) == ROLES


# ---------------------------------------------------------------------------------------------
# Every cell


def _check(response: TestResponse, expected: int | Redirect | str, api: bool) -> str | None:
    """None if the response is the expected answer, else what is wrong."""
    status = response.status_code
    if isinstance(expected, Redirect):
        location = urlsplit(response.headers.get("Location", "")).path
        if status != 302 or location != expected.path:
            return f"expected a redirect to {expected.path}, got {status} {location}"
        return None
    if expected == PASSES:
        to_login = status == 302 and urlsplit(response.headers["Location"]).path == "/login"
        if status in (401, 403) or status >= 500 or to_login:
            return f"expected the guard to let the caller through, got {status}"
        return None
    if status != expected:
        return f"expected {expected}, got {status}"
    if status >= 400:
        if api:
            body = response.get_json(silent=True) or {}
            error = body.get("error") or {}
            wanted = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status)
            if (wanted and error.get("code") != wanted) or not error.get("message"):
                return f"expected a JSON error {wanted}, got {response.get_data(as_text=True)!r}"
        elif status in (403, 404) and response.mimetype != "text/html":
            return f"expected the {status} page, got {response.mimetype}"
    return None


def _is_denial(role: str, answer: Outcome, key: str | None) -> bool:
    """An authorization failure: a 403, or a 404 for a case (or job) that exists."""
    if role == "anonymous":
        return False
    return answer == 403 or (answer == 404 and key not in (None, MISSING))


@pytest.mark.slow  # the whole walk: over a thousand requests
@pytest.mark.parametrize(("endpoint", "method", "role"), list(_cells()))
def test_route_answers_each_role_as_the_access_table_says(
    world: World, endpoint: str, method: str, role: str
) -> None:
    expected = ACCESS[endpoint][method][role]
    targets = expected.items() if isinstance(expected, dict) else [(None, expected)]
    problems = []
    for key, answer in targets:
        response = world.call(role, endpoint, method, key)
        if problem := _check(response, answer, api=endpoint.startswith("api.")):
            case = f" ({key} case)" if key else ""
            where = f"{method} {world.url(endpoint, method, key)} as {role}{case}"
            problems.append(f"{where}: {problem}")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# Denials are audited


def _denials() -> Iterator[tuple[str, str]]:
    for endpoint, methods in ACCESS.items():
        for method, by_role in methods.items():
            if any(
                _is_denial(role, answer, key)
                for role, expected in by_role.items()
                for key, answer in (
                    expected.items() if isinstance(expected, dict) else [(None, expected)]
                )
            ):
                yield endpoint, method


def denied_events() -> list[AuditEvent]:
    """The access.denied events, oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == "access.denied").order_by(AuditEvent.id)
    return list(session.scalars(query))


@pytest.mark.slow  # the whole walk: over a thousand requests
@pytest.mark.parametrize(("endpoint", "method"), list(_denials()))
def test_every_authorization_failure_writes_an_access_denied_event(
    world: World, endpoint: str, method: str
) -> None:
    problems = []
    for role, expected in ACCESS[endpoint][method].items():
        targets = expected.items() if isinstance(expected, dict) else [(None, expected)]
        for key, answer in targets:
            if not _is_denial(role, answer, key):
                continue
            before = len(denied_events())
            world.call(role, endpoint, method, key)
            events = denied_events()[before:]
            actors = [event.actor_id for event in events]
            if actors != [world.users[role].id]:
                problems.append(f"{method} {endpoint} as {role} ({key}): events by {actors}")
    assert not problems, "\n".join(problems)


def test_forbidden_admin_page_writes_an_access_denied_event(world: World) -> None:
    before = len(denied_events())

    response = world.call("mediator", "admin.users", "GET")

    assert response.status_code == 403
    (event,) = denied_events()[before:]
    assert event.actor_id == world.users["mediator"].id
    assert event.org_id == world.users["mediator"].org_id
    assert event.details["method"] == "GET"
    assert event.details["path"] == "/admin/users"


def test_invisible_case_answers_not_found_and_is_audited_as_denied(world: World) -> None:
    before = len(denied_events())

    response = world.call("adjuster", "api.get_case", "GET", "draft_insured_here")

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    (event,) = denied_events()[before:]
    assert event.actor_id == world.users["adjuster"].id
    assert event.case_id == world.case_ids["draft_insured_here"]


def test_missing_case_answers_not_found_without_denied_event(world: World) -> None:
    before = len(denied_events())

    response = world.call("police", "api.get_case", "GET", MISSING)

    assert response.status_code == 404
    assert denied_events()[before:] == []


def test_allowed_request_writes_no_denied_event(world: World) -> None:
    before = len(denied_events())

    response = world.call("police", "cases.show", "GET", "reported_here")

    assert response.status_code == 200
    assert denied_events()[before:] == []


def test_judge_cannot_see_case_sent_to_no_tribunal(world: World) -> None:
    assert world.call("judge", "cases.show", "GET", "no_tribunal").status_code == 404
    assert world.call("judge", "api.get_case", "GET", "no_tribunal").status_code == 404


def test_adjuster_cannot_see_draft_case_insured_by_their_insurer(world: World) -> None:
    assert world.call("adjuster", "cases.show", "GET", "draft_insured_here").status_code == 404
    assert world.call("adjuster", "api.get_case", "GET", "draft_insured_here").status_code == 404


# ---------------------------------------------------------------------------------------------
# Lists go through the same filter


@pytest.mark.parametrize("role", CASE_FILE_ROLES)
def test_case_list_shows_exactly_the_cases_the_role_sees(world: World, role: str) -> None:
    api = world.call(role, "api.list_cases", "GET")
    page = world.call(role, "cases.index", "GET").get_data(as_text=True)

    expected_ids = {world.case_ids[key] for key in SEES[role]}
    assert {item["id"] for item in api.get_json()["items"]} == expected_ids
    assert api.get_json()["total"] == len(expected_ids)
    shown = {key for key in CASES if f'/cases/{world.case_ids[key]}"' in page}
    assert shown == set(SEES[role])


@pytest.mark.parametrize("role", USER_ROLES)
def test_job_without_case_is_seen_by_its_creator_and_admin_only(world: World, role: str) -> None:
    job = jobs.schedule("test.slow_effect", subject_id=1, actor=world.users["police"])
    session.flush()

    headers = {"Authorization": f"Bearer {world.tokens[role]}"}
    response = world.app.test_client().get(f"/api/v1/jobs/{job.id}", headers=headers)

    assert response.status_code == (200 if role in ("police", "admin") else 404)
