"""Who may see and do what: role guards and the one query filter for cases (DESIGN.md §1)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, exists, false, select, true

from app.db import session
from app.errors import NotAllowed, NotFound
from app.models import Case, CaseInsurer, CaseStatus, Role, User

F = TypeVar("F", bound=Callable[..., Any])


def case_filter(user: User, *, per_row: bool = False) -> ColumnElement[bool]:
    """The condition a case must meet for `user` to see it; unknown roles see nothing.

    `per_row`: for a query over a few rows (a work queue), write the insurer's condition as a
    key lookup for each row; as a semi-join, PostgreSQL would read all of an insurer's cases."""
    match user.role:
        case Role.ADMIN:
            return true()
        case Role.POLICE:
            return Case.reporting_unit_id == user.org_id
        case Role.ADJUSTER:
            # An insurer sees a case once the police confirmed it and one of its policies is on it.
            mine = (CaseInsurer.case_id == Case.id, CaseInsurer.org_id == user.org_id)
            touches_insurer = (
                select(CaseInsurer.org_id).where(*mine).scalar_subquery().is_not(None)
                if per_row
                else exists().where(*mine)
            )
            return and_(
                Case.status.not_in([CaseStatus.DRAFT, CaseStatus.WITHDRAWN]), touches_insurer
            )
        case Role.MEDIATOR:
            return Case.mediation_committee_id == user.org_id
        case Role.JUDGE:
            # tribunal_id is only set when a confirmation request is sent to that tribunal.
            return Case.tribunal_id == user.org_id
        case Role.SUPERVISOR:
            return supervised_cases(user.organization.region)
        case Role.REGULATOR:
            # The region's confirmed cases an insurer is on: the insurers' conduct it oversees.
            region = user.organization.region
            if region is None:
                return false()
            return and_(
                in_region(region),
                Case.status.not_in([CaseStatus.DRAFT, CaseStatus.WITHDRAWN]),
                exists().where(CaseInsurer.case_id == Case.id),
            )
    return false()


def supervised_cases(region: str | None) -> ColumnElement[bool]:
    """What a supervision organisation of `region` oversees: the region's cases once the police
    confirmed them (a draft is not a case yet); nothing without a region."""
    if region is None:
        return false()
    return and_(in_region(region), Case.status != CaseStatus.DRAFT)


def in_region(region: str) -> ColumnElement[bool]:
    """Cases of `region` or of a place within it: regions are written from the province down
    (山西省吕梁市 holds 山西省吕梁市离石区), so a city's body oversees its counties' cases."""
    return Case.region.startswith(region, autoescape=True)


# Roles that open case files (the list, a case's pages, its documents); any other role is
# refused, the regulator first: it oversees insurers through figures only and never sees the
# victims' personal data (DESIGN.md §1).
CASE_FILE_ROLES = frozenset(
    {Role.POLICE, Role.ADJUSTER, Role.MEDIATOR, Role.JUDGE, Role.ADMIN, Role.SUPERVISOR}
)


def opens_case_files(user: User) -> bool:
    """True if the user's role may list and open the case files its filter covers."""
    return user.role in CASE_FILE_ROLES


def visible_cases(user: User) -> Select[tuple[Case]]:
    """A query of the cases `user` may open, to refine with filters and ordering; a role that
    opens no case file (a regulator) is refused, whichever case it asks for."""
    if not opens_case_files(user):
        raise NotAllowed(_("A financial regulator sees figures, not case files."))
    return select(Case).where(case_filter(user))


def get_case(user: User, case_id: int) -> Case:
    """Load a case `user` may see; a case they may not see is reported as not found."""
    case = session.scalars(visible_cases(user).where(Case.id == case_id)).one_or_none()
    if case is None:
        exists_at_all = session.get(Case, case_id) is not None
        raise NotFound(_("Case not found."), denied=exists_at_all, case_id=case_id)
    return case


# -- case-level predicates: the user's organisation's part in this case ------------------------


def is_case_reporter(user: User, case: Case) -> bool:
    """An officer of the police unit that reported the case."""
    return can(user, Role.POLICE) and case.reporting_unit_id == user.org_id


def is_case_mediator(user: User, case: Case) -> bool:
    """A mediator of the committee the case is assigned to."""
    return (
        can(user, Role.MEDIATOR)
        and case.mediation_committee_id is not None
        and case.mediation_committee_id == user.org_id
    )


def is_case_insurer(user: User, case: Case) -> bool:
    """An adjuster of an insurer holding a policy on one of the case's vehicles."""
    return can(user, Role.ADJUSTER) and any(
        policy.insurer_org_id == user.org_id
        for vehicle in case.vehicles
        for policy in vehicle.policies
    )


def is_case_tribunal(user: User, case: Case) -> bool:
    """A judge of the tribunal the case was sent to."""
    return (
        can(user, Role.JUDGE) and case.tribunal_id is not None and case.tribunal_id == user.org_id
    )


def is_admin(user: User) -> bool:
    return can(user, Role.ADMIN)


def require_case_mediator(user: User, case: Case) -> None:
    """Raise NotAllowed unless the user is a mediator of the case's committee."""
    require_role(user, Role.MEDIATOR)
    if not is_case_mediator(user, case):
        raise NotAllowed(_("Only a mediator of the case's mediation committee may do this."))


def require_case_tribunal(user: User, case: Case) -> None:
    """Raise NotAllowed unless the user is a judge of the tribunal the case was sent to."""
    require_role(user, Role.JUDGE)
    if not is_case_tribunal(user, case):
        raise NotAllowed(_("Only a judge of the tribunal the case was sent to may do this."))


def can(user: User, *roles: Role) -> bool:
    """True if the user is active and holds one of `roles`."""
    return bool(user.is_authenticated and user.is_active and user.role in roles)


def require_role(user: User, *roles: Role) -> None:
    """Raise NotAllowed unless the user holds one of `roles`."""
    if not can(user, *roles):
        raise NotAllowed(_("Your role may not do this."))


def roles_required(*roles: Role) -> Callable[[F], F]:
    """View decorator: only these roles (the blueprint's guard still applies first)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_role(current_user, *roles)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def guard_blueprint(
    blueprint: Blueprint, roles: Iterable[Role], *, public: Iterable[str] = ()
) -> None:
    """Deny by default: every view of the blueprint needs a login and one of `roles`."""
    allowed = tuple(roles)
    open_endpoints = {f"{blueprint.name}.{name}" for name in public}

    @blueprint.before_request
    def _guard() -> None:
        from flask import request

        from app.auth import login_manager

        if request.endpoint in open_endpoints:
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        require_role(current_user, *allowed)
        return None
