"""Portal forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from datetime import date
from typing import Any

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
    IntegerField,
    MultipleFileField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from app.labels import ORG_KIND_LABELS
from app.services.standards import FIGURE_LABELS, FIGURES, INDUSTRY_WAGES, StandardSet


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
    court_name = StringField(
        _l("Court whose rulings it issues"), validators=[Optional(), Length(max=200)]
    )
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
    ctpi_uninsured = BooleanField(_l("The vehicle has no compulsory insurance (未投保交强险)"))
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
            SelectChoice(
                "certificate", _l("Road-traffic accident certificate (no liability determined)")
            ),
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


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


class FigureForm(Form):
    """One figure of a year's standards and where it comes from (nested in StandardSetForm)."""

    amount = StringField(_l("Amount (yuan)"), validators=[Optional(), Length(max=20)])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=500)])


def wage_lines(text: str | None) -> dict[str, str]:
    """Industry wages from `code = amount` lines; a ValueError names the first bad line."""
    wages: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        code, equals, amount = line.partition("=")
        code, amount = code.strip(), amount.strip()
        if not equals or not code or not amount:
            raise ValueError(_l("Line %(n)d: write code = amount.", n=number))
        if code in wages:
            raise ValueError(_l("Line %(n)d: %(code)s is given twice.", n=number, code=code))
        wages[code] = amount
    return wages


class StandardSetForm(FlaskForm):
    """A year's compensation standards; one FigureForm per name in FIGURES (added below)."""

    version = HiddenField()
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    published_on = DateField(_l("Published on"), validators=[Optional()])
    valid_from = DateField(_l("Applies from"), validators=[Optional()])
    valid_to = DateField(_l("Applies until"), validators=[Optional()])
    industry_wages = TextAreaField(
        _l("Industry wages (one “code = amount” per line)"), validators=[Optional()]
    )
    industry_wages_source = StringField(
        _l("Source of the industry wages"), validators=[Optional(), Length(max=500)]
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)])

    def validate_industry_wages(self, field: TextAreaField) -> None:
        try:
            wage_lines(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc.args[0])) from exc

    def figure_fields(self) -> list[tuple[str, FormField]]:
        """(figure name, its sub-form), in the catalog's order."""
        return [(name, self[name]) for name in FIGURES]

    def standard_values(self) -> dict[str, Any]:
        """The keyword arguments of `standards.save_standard_set` this form carries."""
        amounts = {name: (sub.amount.data or "").strip() for name, sub in self.figure_fields()}
        sources = {name: (sub.source.data or "").strip() for name, sub in self.figure_fields()}
        sources[INDUSTRY_WAGES] = (self.industry_wages_source.data or "").strip()
        return {
            "figures": {name: amount for name, amount in amounts.items() if amount},
            "industry_wages": wage_lines(self.industry_wages.data),
            "sources": {name: text for name, text in sources.items() if text},
            "title": self.title.data or "",
            "published_on": self.published_on.data,
            "valid_from": self.valid_from.data,
            "valid_to": self.valid_to.data,
            "note": self.note.data or "",
        }

    @classmethod
    def data_of(cls, standard: StandardSet, version: int) -> dict[str, Any]:
        """The form's initial data showing `standard` (saved at `version`, 0 if packaged)."""
        data: dict[str, Any] = {
            "version": str(version),
            "title": standard.title,
            "published_on": _date(standard.published_on),
            "valid_from": _date(standard.valid_from),
            "valid_to": _date(standard.valid_to),
            "industry_wages": "\n".join(
                f"{code} = {amount}" for code, amount in standard.industry_wages.items()
            ),
            "industry_wages_source": standard.sources.get(INDUSTRY_WAGES, ""),
            "note": standard.note,
        }
        for name in FIGURES:
            data[name] = {
                "amount": standard.figures.get(name, ""),
                "source": standard.sources.get(name, ""),
            }
        return data


for _figure in FIGURES:
    setattr(StandardSetForm, _figure, FormField(FigureForm, label=FIGURE_LABELS[_figure]))


class NewStandardSetForm(StandardSetForm):
    """A year not on record yet: its jurisdiction and year are chosen too."""

    jurisdiction = SelectField(_l("Jurisdiction"))
    year = IntegerField(_l("Year of the statistics"), validators=[DataRequired()])
