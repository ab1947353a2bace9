"""Portal forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.labels import ORG_KIND_LABELS


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=200)])
    repeat = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new", message=_l("The passwords differ."))],
    )


class OrganizationForm(FlaskForm):
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(kind, label) for kind, label in ORG_KIND_LABELS.items()]
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    aliases = TextAreaField(_l("Other names (one per line)"), validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)


class UserCreateForm(FlaskForm):
    org_id = SelectField(_l("Organisation"), coerce=int)
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(), Length(min=10, max=200)]
    )


class UserEditForm(FlaskForm):
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    active = BooleanField(_l("Active"))
    unlock = BooleanField(_l("Unlock the account"))
    new_password = PasswordField(
        _l("New password (leave empty to keep)"), validators=[Optional(), Length(min=10, max=200)]
    )
