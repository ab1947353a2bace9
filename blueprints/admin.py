"""Platform administration: organisations, users, the audit log."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import access, audit
from app.db import session
from app.errors import ValidationFailed
from app.models import OrgKind, Role
from app.services import accounts
from blueprints.forms import OrganizationForm, UserCreateForm, UserEditForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
access.guard_blueprint(bp, [Role.ADMIN])


def _aliases(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _saved(change: Callable[[], object], done: str) -> bool:
    """Run one service call: commit and say `done`, or roll back and show the service's reason."""
    try:
        change()
    except ValidationFailed as exc:
        session.rollback()
        flash(exc.message, "danger")
        return False
    session.commit()
    flash(done, "success")
    return True


@bp.route("/organizations", methods=["GET", "POST"])
def organizations():  # type: ignore[no-untyped-def]
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
def organization(org_id: int):  # type: ignore[no-untyped-def]
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
        ),
        _("Saved."),
    ):
        return redirect(url_for("admin.organizations"))
    return render_template("admin/organization.html", form=form, org=org)


@bp.route("/users", methods=["GET", "POST"])
def users():  # type: ignore[no-untyped-def]
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
def user(user_id: int):  # type: ignore[no-untyped-def]
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


@bp.get("/audit")
def audit_log():  # type: ignore[no-untyped-def]
    return render_template(
        "admin/audit.html", events=audit.recent_events(limit=200), verification=audit.verify_chain()
    )
