"""Platform administration: organisations, users, compensation standards, the audit log."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import access, audit
from app.errors import DomainError, ValidationFailed
from app.models import OrgKind, Role
from app.services import accounts, standards
from app.services.tribunal import CHAIN_TAIL
from app.web import refuse
from blueprints.forms import (
    NewStandardSetForm,
    OrganizationForm,
    StandardSetForm,
    UserCreateForm,
    UserEditForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
access.guard_blueprint(bp, [Role.ADMIN])


def _aliases(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _saved(change: Callable[[], object], done: str) -> bool:
    """Run one service call and say `done`, or undo it and show the service's reason."""
    try:
        change()
    except ValidationFailed as exc:
        refuse(exc)
        return False
    flash(done, "success")
    return True


@bp.route("/organizations", methods=["GET", "POST"])
def organizations():
    form = OrganizationForm()
    if form.validate_on_submit() and _saved(
        lambda: accounts.create_organization(
            actor=current_user,
            kind=OrgKind(form.kind.data),
            name=form.name.data,
            region=form.region.data,
            aliases=_aliases(form.aliases.data),
        ),
        _("Organisation %(name)s created.", name=form.name.data.strip()),
    ):
        return redirect(url_for("admin.organizations"))
    return render_template(
        "admin/organizations.html", form=form, orgs=accounts.list_organizations()
    )


@bp.route("/organizations/<int:org_id>", methods=["GET", "POST"])
def organization(org_id: int):
    org = accounts.get_organization(org_id)
    form = OrganizationForm(obj=org, aliases="\n".join(org.aliases))
    form.kind.render_kw = {"disabled": True}
    form.kind.data = org.kind.value
    if form.validate_on_submit() and _saved(
        lambda: accounts.update_organization(
            actor=current_user,
            org=org,
            name=form.name.data,
            region=form.region.data,
            aliases=_aliases(form.aliases.data),
            active=form.active.data,
            court_name=form.court_name.data,
        ),
        _("Saved."),
    ):
        return redirect(url_for("admin.organizations"))
    return render_template("admin/organization.html", form=form, org=org)


@bp.route("/users", methods=["GET", "POST"])
def users():
    form = UserCreateForm()
    form.org_id.choices = [
        SelectChoice(org.id, org.name) for org in accounts.list_organizations(active=True)
    ]
    if form.validate_on_submit() and _saved(
        lambda: accounts.create_user(
            actor=current_user,
            org=accounts.get_organization(form.org_id.data),
            username=form.username.data,
            password=form.password.data,
            display_name=form.display_name.data,
        ),
        _("User %(name)s created.", name=form.username.data.strip()),
    ):
        return redirect(url_for("admin.users"))
    return render_template("admin/users.html", form=form, users=accounts.list_users())


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int):
    person = accounts.get_user(user_id)
    form = UserEditForm(obj=person)
    if form.validate_on_submit() and _saved(
        lambda: accounts.update_user(
            actor=current_user,
            user=person,
            display_name=form.display_name.data,
            active=form.active.data,
            unlock=form.unlock.data,
            new_password=form.new_password.data or None,
        ),
        _("Saved."),
    ):
        return redirect(url_for("admin.users"))
    return render_template("admin/user.html", form=form, person=person)


@bp.post("/users/<int:user_id>/unlock")
def user_unlock(user_id: int):
    """Lift a lock at once, e.g. for a clerk locked out by someone else's guessing."""
    person = accounts.get_user(user_id)
    if accounts.unlock_user(actor=current_user, user=person):
        flash(_("The account %(name)s is unlocked.", name=person.username), "success")
    else:
        flash(_("The account %(name)s was not locked.", name=person.username), "info")
    return redirect(url_for("admin.users"))


def _version(form: StandardSetForm) -> int | None:
    text = (form.version.data or "").strip()
    return int(text) if text.isdigit() else None


def _render_standards_form(
    form: StandardSetForm, *, standard: standards.StandardSet | None = None, status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "admin/standard_set.html",
        form=form,
        standard=standard,
        names=standards.jurisdiction_names(),
        edited=standard is not None and standards.is_edited(standard),
        revision=standards.revision_of(standard) if standard else 0,
    )
    return page, status


def _save_standards(
    form: StandardSetForm, *, jurisdiction: str, year: int, standard: standards.StandardSet | None
) -> ResponseReturnValue:
    """Validate the form, save through the service, commit; or answer 422/409 with the reason."""
    if not form.validate_on_submit():
        flash(_("The standards were not saved: correct the marked fields."), "danger")
        return _render_standards_form(form, standard=standard, status=422)
    try:
        standards.save_standard_set(
            actor=current_user,
            jurisdiction=jurisdiction,
            year=year,
            expected_version=_version(form),
            **form.standard_values(),
        )
    except DomainError as exc:
        refuse(exc)
        return _render_standards_form(form, standard=standard, status=exc.status)
    name = standards.jurisdiction_names().get(jurisdiction, jurisdiction)
    flash(_("The standards of %(name)s %(year)d were saved.", name=name, year=year), "success")
    return redirect(url_for("admin.standards"))


@bp.get("/standards", endpoint="standards")
def list_standards():
    return render_template(
        "admin/standards.html",
        standard_sets=standards.list_standard_sets(),
        names=standards.jurisdiction_names(),
        is_edited=standards.is_edited,
        revision_of=standards.revision_of,
    )


@bp.route(
    "/standards/<jurisdiction>/<int:year>", methods=["GET", "POST"], endpoint="standards_edit"
)
def edit_standards(jurisdiction: str, year: int):
    standard = standards.get_standard_set(jurisdiction=jurisdiction, year=year)
    if request.method == "GET":
        form = StandardSetForm(
            data=StandardSetForm.data_of(standard, standards.revision_of(standard))
        )
        return _render_standards_form(form, standard=standard)
    return _save_standards(
        StandardSetForm(), jurisdiction=jurisdiction, year=year, standard=standard
    )


@bp.route("/standards/new", methods=["GET", "POST"], endpoint="standards_new")
def new_standards():
    form = NewStandardSetForm()
    names = standards.jurisdiction_names()
    form.jurisdiction.choices = [SelectChoice(code, name) for code, name in names.items()]
    if request.method == "GET":
        form.jurisdiction.data = current_app.config.get("DAOJIAO_JURISDICTION")
        form.version.data = "0"
        return _render_standards_form(form)
    # A new year must be new: the figures of a year on record are changed on its own page.
    jurisdiction, year = form.jurisdiction.data or "", form.year.data or 0
    if standards.current_catalog().standard_set(jurisdiction, year) is not None:
        flash(
            _(
                "The standards of %(name)s %(year)d exist already: edit them instead.",
                name=names.get(jurisdiction, jurisdiction),
                year=year,
            ),
            "danger",
        )
        return _render_standards_form(form, status=422)
    form.version.data = "0"
    return _save_standards(form, jurisdiction=jurisdiction, year=year, standard=None)


@bp.get("/audit")
def audit_log():
    return render_template(
        "admin/audit.html",
        events=audit.recent_events(limit=200),
        # From the latest checkpoint, bounded like the judge's check; `daojiao audit verify`
        # checks every event.
        verification=audit.verify_chain(limit=CHAIN_TAIL),
    )
