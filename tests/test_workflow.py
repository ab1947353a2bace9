"""The workflow module: its table against DESIGN.md and the README, its checks and effects."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app import workflow
from app.db import session
from app.errors import InvalidTransition, NotAllowed
from app.models import AuditEvent, CaseStatus, DeadlineStatus, Notification, OrgKind
from app.services import deadlines
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
DESIGN = ROOT.parent / "shared" / "DESIGN.md"
# The word each table uses for who takes a step.
BY = {"reporter": "police", "mediator": "mediator", "tribunal": "judge", "admin": "admin"}


STATES = {status.value for status in CaseStatus}


def table_rows(markdown: str) -> set[tuple[str, str]]:
    """(from, to) pairs of the `| from | to | by | when |` table of a document."""
    pairs = set()
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not set(cells[0].split(", ")) <= STATES:
            continue
        for source in cells[0].split(", "):
            for target in cells[1].split(" or "):
                pairs.add((source, target))
    return pairs


def table_triples(markdown: str) -> set[tuple[str, str, str]]:
    """(from, to, by) of the README's table, where `by` may list several roles."""
    triples = set()
    for line in markdown.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not set(cells[1].split(", ")) <= STATES:
            continue
        for source in cells[1].split(", "):
            for by in cells[3].split(", "):
                triples.add((source, cells[2], by))
    return triples


def module_pairs() -> set[tuple[str, str]]:
    return {(s.value, t.target.value) for t in workflow.TRANSITIONS for s in t.sources}


def module_triples() -> set[tuple[str, str, str]]:
    return {
        (s.value, t.target.value, BY[part] if part else "system")
        for t in workflow.TRANSITIONS
        for s in t.sources + t.also_from
        for part in (t.parts or (None,))
    }


def test_the_transition_table_is_design_md_s() -> None:
    if not DESIGN.exists():
        pytest.skip(f"{DESIGN} is not beside this clone")
    assert module_pairs() == table_rows(DESIGN.read_text(encoding="utf-8"))


def test_the_readme_lists_every_transition_with_its_roles() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert module_triples() == table_triples(readme)


# Modules that may write a case's status, and why.
STATUS_WRITERS = {
    "workflow.py": "the transitions themselves",
    # The demo's past year: each status is the one its last audit event says, written with the
    # story's times and without the notices and jobs a transition sends now
    # (tests/test_demo_history.py checks every case's status against its last event).
    "demo_history.py": "generated history",
}


def test_no_status_is_written_outside_the_workflow_module() -> None:
    writes = []
    for path in [*ROOT.glob("app/**/*.py"), *ROOT.glob("blueprints/*.py")]:
        if path.name in STATUS_WRITERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    owner = ast.unparse(target.value)
                    if owner == "case" or owner.endswith(".case"):
                        writes.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert writes == []


def test_views_never_commit() -> None:
    commits = [
        f"{path.name}:{number}"
        for path in ROOT.glob("blueprints/*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.commit\(\)", line)
    ]
    assert commits == []


def _module_imports() -> dict[str, set[str]]:
    """Every import between our modules, at module level or inside functions."""
    files = {}
    for package in ("app", "blueprints", "workers", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def ours(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        names = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names += [f"{node.module}.{alias.name}" for alias in node.names]
        graph[module] = {
            target
            for target in map(ours, names)
            # A module may use its own package's __init__ (the app factory).
            if target and target != module and not module.startswith(target + ".")
        }
    return graph


def test_no_import_circle() -> None:
    graph = _module_imports()
    circles = []

    def visit(module: str, path: list[str]) -> None:
        for target in graph[module]:
            if target in path:
                circles.append(path[path.index(target) :] + [target])
            elif target not in seen:
                seen.add(target)
                visit(target, [*path, target])

    for start in graph:
        seen = {start}
        visit(start, [start])
    assert circles == []


# -- checks and effects on real cases ----------------------------------------------------------


class World:
    def __init__(self) -> None:
        self.police_org = factories.make_org(OrgKind.POLICE)
        self.committee = factories.make_org(OrgKind.MEDIATION)
        self.insurer = factories.make_org(OrgKind.INSURER)
        self.tribunal = factories.make_org(OrgKind.TRIBUNAL)
        self.police = factories.make_user(self.police_org)
        self.mediator = factories.make_user(self.committee)
        self.other_mediator = factories.make_user(factories.make_org(OrgKind.MEDIATION))
        self.adjuster = factories.make_user(self.insurer)
        self.judge = factories.make_user(self.tribunal)
        self.admin = factories.make_user(factories.make_org(OrgKind.PLATFORM))

    def case(self, status: CaseStatus):
        case = factories.make_accident_case(
            police=self.police_org, committee=self.committee, insurer=self.insurer, status=status
        )
        case.tribunal_id = self.tribunal.id
        session.flush()
        return case


@pytest.fixture
def world(app: Flask) -> World:
    return World()


def test_a_step_is_refused_to_another_committee_and_in_another_state(world: World) -> None:
    case = world.case(CaseStatus.NEGOTIATING)
    with pytest.raises(NotAllowed, match="调解委员会|mediation committee"):
        workflow.check(case, "fail_mediation", world.other_mediator)
    with pytest.raises(NotAllowed):
        workflow.check(case, "fail_mediation", world.adjuster)
    with pytest.raises(InvalidTransition):
        workflow.check(case, "close", world.mediator)
    with pytest.raises(NotAllowed):
        workflow.check(case, "confirm_report", None)
    workflow.check(case, "fail_mediation", world.mediator)


def test_a_transition_writes_the_status_audits_it_and_registers_its_effects(
    world: World,
) -> None:
    case = world.case(CaseStatus.AGREED)
    workflow.start_timer(case, workflow.BY_ACTION["sign_agreement"].starts[0], subject="a:1")

    before = workflow.transition(
        case, "request_confirmation", world.mediator, subject="confirmation:9", note="x"
    )

    assert before == CaseStatus.AGREED
    assert case.status == CaseStatus.CONFIRMING
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id.desc())
    ).first()
    assert event.action == "confirmation.requested"
    assert event.subject == "confirmation:9"
    assert event.details == {"status": ["agreed", "confirming"], "note": "x"}
    timers = {(d.kind, d.status) for d in deadlines.case_deadlines(case)}
    assert ("confirmation_application", DeadlineStatus.MET) in timers
    assert ("court_acceptance", DeadlineStatus.OPEN) in timers
    told = session.scalars(select(Notification).where(Notification.case_id == case.id)).all()
    assert {n.user_id for n in told} == {world.judge.id}


def test_allowed_actions_follow_the_state_and_the_users_part(world: World) -> None:
    negotiating = world.case(CaseStatus.NEGOTIATING)
    paid = world.case(CaseStatus.PAID)

    def actions(case, user):
        return [a["action"] for a in workflow.allowed_actions(case, user)]

    assert actions(negotiating, world.mediator) == [
        "file_claims",
        "fail_mediation",
        "make_offer",
        "draft_agreement",
    ]
    assert actions(negotiating, world.adjuster) == ["make_offer"]
    assert actions(negotiating, world.other_mediator) == []
    assert actions(negotiating, world.police) == []
    assert actions(paid, world.admin) == ["close"]
    assert actions(paid, world.judge) == []


def test_the_actions_api_lists_the_callers_next_steps_with_their_deadline(
    app: Flask, world: World
) -> None:
    case = world.case(CaseStatus.CONFIRMING)
    timer = workflow.start_timer(
        case, workflow.BY_ACTION["request_confirmation"].starts[0], subject="confirmation:1"
    )
    session.commit()
    client = app.test_client()
    headers = factories.api_token(client, world.judge)

    response = client.get(f"/api/v1/cases/{case.id}/actions", headers=headers)

    assert response.status_code == 200
    body = response.get_json()
    assert [a["action"] for a in body] == [
        "confirm_settlement",
        "reject_to_mediation",
        "reject_to_litigation",
        "accept_application",
    ]
    accept = body[-1]
    assert accept["deadline"] == timer.due_at.isoformat()
    assert accept["label"]
    assert body[0]["deadline"] is None
    mediator = factories.api_token(client, world.mediator)
    assert client.get(f"/api/v1/cases/{case.id}/actions", headers=mediator).get_json() == []


def test_the_case_page_links_the_users_next_steps(app: Flask, world: World) -> None:
    case = world.case(CaseStatus.NEGOTIATING)
    session.commit()
    client = app.test_client()
    factories.login(client, world.mediator)

    page = client.get(f"/cases/{case.id}").get_data(as_text=True)

    assert 'data-testid="next-steps"' in page
    assert f'href="/cases/{case.id}/offers" data-action="make_offer"' in page
    assert 'data-action="draft_agreement"' in page
    assert 'data-action="sign_agreement"' not in page  # no draft to sign yet
    factories.login(client, world.adjuster)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-action="make_offer"' in page
    assert 'data-action="draft_agreement"' not in page
