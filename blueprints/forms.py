"""Portal forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    MultipleFileField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
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


class UploadForm(FlaskForm):
    reports = MultipleFileField(
        _l("Accident liability letters (PDF, several at once if you like)"),
        validators=[DataRequired()],
    )


class PartyForm(Form):
    """One party's fields on the review page (nested: the outer form carries the CSRF token)."""

    remove = BooleanField(_l("Remove this party"))
    label = StringField(_l("Label"), validators=[Optional(), Length(max=20)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    gender = SelectField(
        _l("Sex"),
        choices=[SelectChoice("", "—"), SelectChoice("男", "男"), SelectChoice("女", "女")],
    )
    age = StringField(_l("Age"), validators=[Optional(), Length(max=3)])
    id_number = StringField(_l("ID number"), validators=[Optional(), Length(max=20)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    license_no = StringField(_l("Driving licence"), validators=[Optional(), Length(max=50)])
    traffic_mode = StringField(_l("Mode of travel"), validators=[Optional(), Length(max=100)])
    plate = StringField(_l("Plate"), validators=[Optional(), Length(max=20)])
    vehicle_type = StringField(_l("Vehicle type"), validators=[Optional(), Length(max=50)])
    ctpi_insurer = StringField(
        _l("Compulsory insurer (交强险)"), validators=[Optional(), Length(max=200)]
    )
    ctpi_policy_no = StringField(
        _l("Compulsory policy number"), validators=[Optional(), Length(max=64)]
    )
    commercial_insurer = StringField(
        _l("Commercial insurer"), validators=[Optional(), Length(max=200)]
    )
    commercial_limit = StringField(
        _l("Commercial third-party limit (yuan)"), validators=[Optional(), Length(max=20)]
    )
    liability = SelectField(
        _l("Liability"),
        choices=[
            SelectChoice("", _l("Unknown")),
            SelectChoice("full", _l("Full")),
            SelectChoice("main", _l("Main")),
            SelectChoice("equal", _l("Equal")),
            SelectChoice("minor", _l("Minor")),
            SelectChoice("none", _l("None")),
        ],
    )


class ReviewForm(FlaskForm):
    version = HiddenField()
    document_no = StringField(_l("Letter number"), validators=[Optional(), Length(max=200)])
    issuer = StringField(_l("Issued by"), validators=[Optional(), Length(max=200)])
    procedure = SelectField(
        _l("Procedure"),
        choices=[
            SelectChoice("", _l("Unknown")),
            SelectChoice("general", _l("General procedure")),
            SelectChoice("simple", _l("Simple procedure")),
        ],
    )
    accident_time = DateTimeLocalField(
        _l("Accident time"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    location = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    weather = StringField(_l("Weather"), validators=[Optional(), Length(max=200)])
    issue_date = DateField(_l("Date of the letter"), validators=[Optional()])
    facts = TextAreaField(_l("Facts"), validators=[Optional(), Length(max=20000)])
    cause = TextAreaField(_l("Cause and liability"), validators=[Optional(), Length(max=20000)])
    parties = FieldList(FormField(PartyForm), min_entries=1, max_entries=10)


class EvidenceForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("photo", _l("Photo")),
            SelectChoice("medical_bill", _l("Medical bill")),
            SelectChoice("appraisal", _l("Appraisal report")),
            SelectChoice("other", _l("Other")),
        ],
    )
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    files = MultipleFileField(_l("Files (PDF or images)"), validators=[DataRequired()])
