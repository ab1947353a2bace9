"""The portal's claims form: one victim per form, read into and out of the claims JSON
(INTERFACES.md §3 victims) so that the portal and the API file the same thing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.labels import (
    ITEM_LABELS,
    OUTCOME_LABELS,
    RECOVERY_REASONS,
    REDUCTION_KINDS,
    RESIDENCE_LABELS,
)
from app.money import optional_amount_text

_AMOUNT = [Optional(), NumberRange(min=0, max=10**11)]
_COUNT = [Optional(), NumberRange(min=0, max=36500)]
# Amount-only items the form shows as one field each.
AMOUNT_ITEMS = (
    "future_medical",
    "rehabilitation",
    "transport",
    "lodging",
    "mental_distress",
    "appraisal_fee",
)
# Items the form edits; any other item a victim has (e.g. a decided amount filed through the
# API) is kept as it was when the form is saved.
FORM_ITEMS = (
    "medical",
    "hospital_food",
    "nutrition",
    "lost_income",
    "nursing",
    "assistive_devices",
    "dependents_living",
    "property",
    "indirect_property",
    *AMOUNT_ITEMS,
)
# Items a commercial policy's terms may exclude; indirect losses have their own choice.
EXCLUDABLE_ITEMS = tuple(code for code in ITEM_LABELS if code != "indirect_property")
# What the party options of the settings form edit; any other option filed through the API
# for a party is kept as it was.
FORM_PARTY_OPTIONS = (
    "ratio",
    "commercial_limit",
    "ctpi_insurer",
    "ctpi_uninsured",
    "misconduct",
    "seat_cover",
    "excluded_items",
    "covers_indirect",
)


class BillForm(Form):
    amount = DecimalField(_l("Amount (yuan)"), places=2, validators=_AMOUNT)
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    document = SelectField(_l("Evidence"), choices=[], validate_choice=False)


class CarerForm(Form):
    days = IntegerField(_l("Days"), validators=_COUNT)
    annual = DecimalField(_l("Annual income"), places=2, validators=_AMOUNT)
    daily = DecimalField(_l("Daily rate"), places=2, validators=_AMOUNT)
    persons = IntegerField(_l("Carers"), default=1, validators=[Optional(), NumberRange(1, 10)])


class DependentForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    age = IntegerField(_l("Age"), validators=[Optional(), NumberRange(0, 130)])
    years = IntegerField(_l("Years supported"), validators=[Optional(), NumberRange(0, 20)])
    supporters = IntegerField(
        _l("Supporters"), default=1, validators=[Optional(), NumberRange(1, 20)]
    )
    consumption = DecimalField(_l("Own consumption standard"), places=2, validators=_AMOUNT)


class CtpiForm(Form):
    """The 交强险 of a vehicle the report leaves unknown, as the mediator finds it."""

    party = HiddenField()
    insurer = StringField(
        _l("Compulsory insurer (交强险), from the policy"),
        validators=[Optional(), Length(max=200)],
    )
    uninsured = BooleanField(_l("The vehicle has no compulsory insurance (未投保交强险)"))

    def validate_uninsured(self, field: BooleanField) -> None:
        if field.data and (self.insurer.data or "").strip():
            raise ValidationError(_l("Give the compulsory insurer or tick no insurance, not both."))


class VictimForm(FlaskForm):
    victim_id = HiddenField()
    # One row per vehicle whose 交强险 the report leaves unknown: claims wait for it.
    ctpi = FieldList(FormField(CtpiForm), min_entries=0, max_entries=10)
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    who = SelectField(_l("Who was hurt"), choices=[], validate_choice=False)
    age = IntegerField(_l("Age (full years)"), validators=[Optional(), NumberRange(0, 130)])
    residence = SelectField(
        _l("Residence"), choices=[SelectChoice(k, v) for k, v in RESIDENCE_LABELS.items()]
    )
    outcome = SelectField(
        _l("Outcome"), choices=[SelectChoice(k, v) for k, v in OUTCOME_LABELS.items()]
    )
    disability_grades = StringField(
        _l("Disability grades (1–10, several separated by commas)"),
        validators=[Optional(), Length(max=50)],
    )
    medical = FieldList(FormField(BillForm), min_entries=4, max_entries=40)
    hospital_days = IntegerField(_l("Days in hospital"), validators=_COUNT)
    hospital_food_daily = DecimalField(
        _l("Food allowance per day (blank: the standard)"), places=2, validators=_AMOUNT
    )
    nutrition_days = IntegerField(_l("Nutrition days"), validators=_COUNT)
    nutrition_daily = DecimalField(_l("Nutrition per day"), places=2, validators=_AMOUNT)
    lost_income_days = IntegerField(_l("Days off work"), validators=_COUNT)
    lost_income_annual = DecimalField(_l("Annual income"), places=2, validators=_AMOUNT)
    lost_income_daily = DecimalField(_l("Daily income"), places=2, validators=_AMOUNT)
    lost_income_industry = SelectField(
        _l("Or the industry's average wage"), choices=[], validate_choice=False
    )
    nursing = FieldList(FormField(CarerForm), min_entries=2, max_entries=20)
    assistive_price = DecimalField(_l("Assistive device price"), places=2, validators=_AMOUNT)
    assistive_count = IntegerField(_l("Replacements"), validators=[Optional(), NumberRange(1, 100)])
    dependents = FieldList(FormField(DependentForm), min_entries=3, max_entries=20)
    property = FieldList(FormField(BillForm), min_entries=3, max_entries=40)
    future_medical = DecimalField(_l("Follow-up treatment"), places=2, validators=_AMOUNT)
    rehabilitation = DecimalField(_l("Rehabilitation"), places=2, validators=_AMOUNT)
    transport = DecimalField(_l("Transport"), places=2, validators=_AMOUNT)
    lodging = DecimalField(_l("Lodging"), places=2, validators=_AMOUNT)
    mental_distress = DecimalField(_l("Mental distress"), places=2, validators=_AMOUNT)
    appraisal_fee = DecimalField(_l("Appraisal fee"), places=2, validators=_AMOUNT)
    ctpi_mental_distress_first = BooleanField(
        _l(
            "Ask compulsory insurance to pay the mental distress compensation first "
            "(道交解释 art. 13)"
        )
    )
    # Rarer circumstances, shown folded as 特殊情形.
    appraised_on = DateField(_l("Date of the disability rating (定残)"), validators=[Optional()])
    birth_date = DateField(
        _l("Date of birth (blank: from the ID number in the report)"), validators=[Optional()]
    )
    reduction_kind = SelectField(
        _l("Reduce the liable side's share for"),
        choices=[SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in REDUCTION_KINDS.items()],
        default="",
    )
    reduction_percent = DecimalField(
        _l("Reduced by (%)"), places=2, validators=[Optional(), NumberRange(min=0, max=100)]
    )
    reduction_reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
    rescue_costs = DecimalField(
        _l("Of the medical costs, rescue (抢救) costs"), places=2, validators=_AMOUNT
    )
    standard_income = DecimalField(
        _l("Higher urban disposable income of the victim's home (yuan a year)"),
        places=2,
        validators=_AMOUNT,
    )
    standard_consumption = DecimalField(
        _l("Higher urban consumption of the victim's home (yuan a year)"),
        places=2,
        validators=_AMOUNT,
    )
    standard_source = StringField(
        _l("Source of that standard (e.g. the province's statistical bulletin)"),
        validators=[Optional(), Length(max=300)],
    )
    indirect_property = FieldList(FormField(BillForm), min_entries=2, max_entries=20)

    def validate(self, extra_validators: Any = None) -> bool:
        """The field checks, then those across the special circumstances' fields."""
        valid = super().validate(extra_validators)
        for field, message in self._special_errors():
            field.errors.append(message)
            valid = False
        return valid

    def _special_errors(self) -> list[tuple[Any, Any]]:
        errors: list[tuple[Any, Any]] = []
        kind, percent = self.reduction_kind.data, self.reduction_percent.data
        reason = (self.reduction_reason.data or "").strip()
        if not kind and (percent is not None or reason):
            errors.append((self.reduction_kind, _l("Choose why the share is reduced.")))
        if kind and (percent is None or percent <= 0) and not self.reduction_percent.errors:
            errors.append((self.reduction_percent, _l("Give by how much the share is reduced.")))
        if kind and not reason:
            errors.append((self.reduction_reason, _l("Give the reason for the reduction.")))
        figures = (self.standard_income.data, self.standard_consumption.data)
        source = (self.standard_source.data or "").strip()
        if any(value is not None for value in figures) and not source:
            errors.append((self.standard_source, _l("Name where the higher standard comes from.")))
        if source and all(value is None for value in figures):
            errors.append(
                (self.standard_source, _l("Give the higher standard itself, or clear its source."))
            )
        return errors

    def validate_appraised_on(self, field: DateField) -> None:
        if field.data is not None and field.data > date.today():
            raise ValidationError(_l("The rating cannot be in the future."))

    def validate_disability_grades(self, field: StringField) -> None:
        try:
            grades = parse_grades(field.data)
        except ValueError:
            raise ValidationError(_l("Give grades 1 to 10, e.g. 9, 10.")) from None
        if self.outcome.data == "disability" and not grades:
            raise ValidationError(_l("A disability needs its grade."))

    def set_choices(
        self,
        who: list[tuple[str, str]],
        documents: list[tuple[str, str]],
        industries: list[tuple[str, str]],
    ) -> None:
        """The case's parties and vehicles, its evidence files and the industries with wages."""
        self.who.choices = [SelectChoice(value, label) for value, label in who]
        none = [SelectChoice("", "—")]
        for row in (*self.medical, *self.property, *self.indirect_property):
            row.form.document.choices = none + [SelectChoice(v, label) for v, label in documents]
        self.lost_income_industry.choices = none + [
            SelectChoice(v, label) for v, label in industries
        ]


def parse_grades(text: str | None) -> list[int]:
    parts = [part for part in (text or "").replace("，", ",").replace("、", ",").split(",")]
    grades = [int(part) for part in (p.strip() for p in parts) if part]
    if any(not 1 <= grade <= 10 for grade in grades):
        raise ValueError("grade out of range")
    return grades


def _bills(rows: list[Any]) -> list[dict[str, Any]]:
    bills = []
    for entry in rows:
        row = entry.form
        if row.amount.data is None:
            continue
        bill: dict[str, Any] = {"amount": optional_amount_text(row.amount.data)}
        if row.description.data:
            bill["description"] = row.description.data.strip()
        if row.document.data:
            bill["document"] = row.document.data
        bills.append(bill)
    return bills


def victim_from_form(form: VictimForm, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The claims JSON of the victim in `form`; items the form does not show are kept."""
    kind, _, label = (form.who.data or "").partition(":")
    victim: dict[str, Any] = {
        "id": form.victim_id.data,
        "outcome": form.outcome.data,
        "residence": form.residence.data,
    }
    if kind == "occupant":
        victim["occupant_of"] = label
    elif label:
        victim["party"] = label
    if form.name.data:
        victim["name"] = form.name.data.strip()
    if form.age.data is not None:
        victim["age"] = form.age.data
    grades = parse_grades(form.disability_grades.data)
    if grades:
        victim["disability_grades"] = grades
    items: dict[str, Any] = {
        code: item
        for code, item in ((previous or {}).get("items") or {}).items()
        if code not in FORM_ITEMS
    }
    medical = _bills(form.medical)
    if medical:
        items["medical"] = {"bills": medical}
    if form.hospital_days.data:
        items["hospital_food"] = {"days": form.hospital_days.data}
        if form.hospital_food_daily.data is not None:
            items["hospital_food"]["daily"] = optional_amount_text(form.hospital_food_daily.data)
    if form.nutrition_days.data:
        items["nutrition"] = {"days": form.nutrition_days.data}
        if form.nutrition_daily.data is not None:
            items["nutrition"]["daily"] = optional_amount_text(form.nutrition_daily.data)
    if form.lost_income_days.data:
        income: dict[str, Any] = {"days": form.lost_income_days.data}
        if form.lost_income_daily.data is not None:
            income["daily"] = optional_amount_text(form.lost_income_daily.data)
        if form.lost_income_annual.data is not None:
            income["annual"] = optional_amount_text(form.lost_income_annual.data)
        if form.lost_income_industry.data:
            income["industry"] = form.lost_income_industry.data
        items["lost_income"] = income
    carers = []
    for row in (entry.form for entry in form.nursing):
        if not row.days.data:
            continue
        carer: dict[str, Any] = {"days": row.days.data, "persons": row.persons.data or 1}
        if row.daily.data is not None:
            carer["daily"] = optional_amount_text(row.daily.data)
        if row.annual.data is not None:
            carer["annual"] = optional_amount_text(row.annual.data)
        carers.append(carer)
    if carers:
        items["nursing"] = carers
    if form.assistive_price.data is not None:
        items["assistive_devices"] = {
            "price": optional_amount_text(form.assistive_price.data),
            "count": form.assistive_count.data or 1,
        }
    dependents = []
    for row in (entry.form for entry in form.dependents):
        if row.age.data is None and row.years.data is None:
            continue
        dependent: dict[str, Any] = {"supporters": row.supporters.data or 1}
        if row.name.data:
            dependent["name"] = row.name.data.strip()
        if row.years.data is not None:
            dependent["years"] = row.years.data
        else:
            dependent["age"] = row.age.data
        if row.consumption.data is not None:
            dependent["consumption"] = optional_amount_text(row.consumption.data)
        dependents.append(dependent)
    if dependents:
        items["dependents_living"] = dependents
    losses = _bills(form.property)
    if losses:
        items["property"] = losses
    indirect = _bills(form.indirect_property)
    if indirect:
        items["indirect_property"] = indirect
    for code in AMOUNT_ITEMS:
        value = getattr(form, code).data
        if value is not None:
            items[code] = {"amount": optional_amount_text(value)}
    victim["items"] = items
    victim.update(_special_from_form(form))
    return victim


def _special_from_form(form: VictimForm) -> dict[str, Any]:
    """The victim's options beyond the items (see the engine's input, issue 11)."""
    special: dict[str, Any] = {}
    if form.ctpi_mental_distress_first.data:
        special["ctpi_mental_distress_first"] = True
    if form.appraised_on.data is not None:
        special["appraised_on"] = form.appraised_on.data.isoformat()
    if form.birth_date.data is not None:
        special["birth_date"] = form.birth_date.data.isoformat()
    if form.reduction_kind.data and form.reduction_percent.data is not None:
        special["reduction"] = {
            "kind": form.reduction_kind.data,
            "ratio": format((form.reduction_percent.data / 100).normalize(), "f"),
            "reason": (form.reduction_reason.data or "").strip(),
        }
    if form.rescue_costs.data is not None:
        special["rescue_costs"] = optional_amount_text(form.rescue_costs.data)
    standards: dict[str, Any] = {}
    if form.standard_income.data is not None:
        standards["urban_disposable_income"] = optional_amount_text(form.standard_income.data)
    if form.standard_consumption.data is not None:
        standards["urban_consumption"] = optional_amount_text(form.standard_consumption.data)
    if standards:
        standards["source"] = (form.standard_source.data or "").strip()
        special["standards"] = standards
    return special


def _rows(entries: list[dict[str, Any]], minimum: int) -> list[dict[str, Any]]:
    return entries + [{} for _ in range(max(minimum - len(entries), 1))]


def form_data_from_victim(victim: dict[str, Any]) -> dict[str, Any]:
    """Form data showing a filed victim (for editing), with blank rows to add more."""
    items = victim.get("items") or {}
    data: dict[str, Any] = {
        "victim_id": victim.get("id"),
        "name": victim.get("name"),
        "age": victim.get("age"),
        "residence": victim.get("residence", "urban"),
        "outcome": victim.get("outcome", "injury"),
        "disability_grades": ", ".join(str(g) for g in victim.get("disability_grades") or []),
    }
    if victim.get("occupant_of"):
        data["who"] = f"occupant:{victim['occupant_of']}"
    elif victim.get("party"):
        data["who"] = f"party:{victim['party']}"
    medical = items.get("medical") or {}
    bills = medical.get("bills") or ([{"amount": medical["amount"]}] if "amount" in medical else [])
    data["medical"] = _rows([_decimal_row(b) for b in bills], 4)
    food = items.get("hospital_food") or {}
    data["hospital_days"] = food.get("days")
    data["hospital_food_daily"] = _decimal(food.get("daily"))
    nutrition = items.get("nutrition") or {}
    data["nutrition_days"] = nutrition.get("days")
    data["nutrition_daily"] = _decimal(nutrition.get("daily"))
    income = items.get("lost_income") or {}
    data["lost_income_days"] = income.get("days")
    data["lost_income_annual"] = _decimal(income.get("annual"))
    data["lost_income_daily"] = _decimal(income.get("daily"))
    data["lost_income_industry"] = income.get("industry", "")
    nursing = items.get("nursing") if isinstance(items.get("nursing"), list) else []
    data["nursing"] = _rows(
        [
            {
                "days": c.get("days"),
                "annual": _decimal(c.get("annual")),
                "daily": _decimal(c.get("daily")),
                "persons": c.get("persons", 1),
            }
            for c in nursing
        ],
        2,
    )
    devices = items.get("assistive_devices") or {}
    data["assistive_price"] = _decimal(devices.get("price"))
    data["assistive_count"] = devices.get("count")
    dependents = items.get("dependents_living")
    data["dependents"] = _rows(
        [
            {
                "name": d.get("name"),
                "age": d.get("age"),
                "years": d.get("years"),
                "supporters": d.get("supporters", 1),
                "consumption": _decimal(d.get("consumption")),
            }
            for d in (dependents if isinstance(dependents, list) else [])
        ],
        3,
    )
    losses = items.get("property")
    data["property"] = _rows(
        [_decimal_row(p) for p in (losses if isinstance(losses, list) else [])], 3
    )
    indirect = items.get("indirect_property")
    data["indirect_property"] = _rows(
        [_decimal_row(p) for p in (indirect if isinstance(indirect, list) else [])], 2
    )
    for code in AMOUNT_ITEMS:
        data[code] = _decimal((items.get(code) or {}).get("amount"))
    data["ctpi_mental_distress_first"] = bool(victim.get("ctpi_mental_distress_first"))
    data["appraised_on"] = _date(victim.get("appraised_on"))
    data["birth_date"] = _date(victim.get("birth_date"))
    reduction = victim.get("reduction") or {}
    data["reduction_kind"] = reduction.get("kind", "")
    ratio = _decimal(reduction.get("ratio"))
    data["reduction_percent"] = None if ratio is None else (ratio * 100).normalize()
    data["reduction_reason"] = reduction.get("reason")
    data["rescue_costs"] = _decimal(victim.get("rescue_costs"))
    standards = victim.get("standards") or {}
    data["standard_income"] = _decimal(standards.get("urban_disposable_income"))
    data["standard_consumption"] = _decimal(standards.get("urban_consumption"))
    data["standard_source"] = standards.get("source")
    return data


def ctpi_rows(claims: dict[str, Any], party_ids: list[str]) -> list[dict[str, Any]]:
    """Form data of the 交强险 rows for the parties `party_ids` (those the report leaves
    unknown), as the claims state them."""
    overrides = {p.get("id"): p for p in claims.get("parties") or [] if isinstance(p, dict)}
    return [
        {
            "party": party_id,
            "insurer": overrides.get(party_id, {}).get("ctpi_insurer"),
            "uninsured": overrides.get(party_id, {}).get("ctpi_uninsured") is True,
        }
        for party_id in party_ids
    ]


def claims_with_ctpi(
    claims: dict[str, Any], rows: list[Any], party_ids: list[str]
) -> dict[str, Any]:
    """`claims` with the 交强险 of the rows (parties among `party_ids`) in the party options."""
    parties = [dict(p) for p in claims.get("parties") or [] if isinstance(p, dict)]
    for row in (entry.form for entry in rows):
        if row.party.data not in party_ids:
            continue
        override = next((p for p in parties if p.get("id") == row.party.data), None)
        if override is None:
            override = {"id": row.party.data}
            parties.append(override)
        override.pop("ctpi_insurer", None)
        override.pop("ctpi_uninsured", None)
        if (row.insurer.data or "").strip():
            override["ctpi_insurer"] = row.insurer.data.strip()
        if row.uninsured.data:
            override["ctpi_uninsured"] = True
    updated = {key: value for key, value in claims.items() if key != "parties"}
    kept = [p for p in parties if len(p) > 1]
    if kept:
        updated["parties"] = kept
    return updated


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _decimal_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "amount": _decimal(row.get("amount")),
        "description": row.get("description"),
        "document": str(row.get("document") or ""),
    }


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PartyOverrideForm(Form):
    party = HiddenField()
    ratio = DecimalField(
        _l("Liability share (0–1; blank: by the police finding)"),
        places=4,
        validators=[Optional(), NumberRange(min=0, max=1)],
    )
    commercial_limit = DecimalField(_l("Commercial insurance limit"), places=2, validators=_AMOUNT)
    # Only where the report leaves the vehicle's 交强险 unknown.
    ctpi_insurer = StringField(
        _l("Compulsory insurer (交强险), from the policy"),
        validators=[Optional(), Length(max=200)],
    )
    ctpi_uninsured = BooleanField(_l("The vehicle has no compulsory insurance (未投保交强险)"))
    # Rarer circumstances, shown folded as 特殊情形.
    misconduct = SelectField(
        _l("Driver's misconduct (交强险条例 art. 22, 道交解释 art. 15)"),
        choices=[SelectChoice("", _l("No such misconduct"))]
        + [SelectChoice(k, v) for k, v in RECOVERY_REASONS.items()],
        default="",
        validate_choice=False,  # the service names a wrong one; a non-vehicle row has none
    )
    seat_insurer = StringField(
        _l("Passenger liability insurer (车上人员责任险; blank: the commercial insurer)"),
        validators=[Optional(), Length(max=200)],
    )
    seat_limit = DecimalField(
        _l("Passenger liability limit per seat (yuan)"),
        places=2,
        validators=[Optional(), NumberRange(min=0.01, max=10**11)],
    )
    excluded_items = MultiCheckboxField(
        _l("Items the commercial policy does not pay"),
        choices=[SelectChoice(code, ITEM_LABELS[code]) for code in EXCLUDABLE_ITEMS],
    )
    covers_indirect = BooleanField(
        _l("The commercial policy pays indirect losses (loss of use, substitute transport)")
    )

    def validate_ctpi_uninsured(self, field: BooleanField) -> None:
        if field.data and (self.ctpi_insurer.data or "").strip():
            raise ValidationError(_l("Give the compulsory insurer or tick no insurance, not both."))

    def validate_seat_insurer(self, field: StringField) -> None:
        if (field.data or "").strip() and self.seat_limit.data is None:
            raise ValidationError(_l("Give the limit per seat as well."))


class ClaimSettingsForm(FlaskForm):
    version = HiddenField()
    standards_year = SelectField(_l("Standards year"), choices=[], validate_choice=False)
    share_rounding = SelectField(
        _l("Rounding of shares"),
        choices=[
            SelectChoice("exact", _l("Exact shares")),
            SelectChoice("ratio_0.1pct", _l("Ratios rounded to 0.1 %")),
            SelectChoice("ratio_1pct", _l("Ratios rounded to 1 %")),
        ],
    )
    parties = FieldList(FormField(PartyOverrideForm), min_entries=0, max_entries=20)


def _party_form_data(party_id: str, override: dict[str, Any]) -> dict[str, Any]:
    seat = override.get("seat_cover") or {}
    excluded = override.get("excluded_items")
    return {
        "party": party_id,
        "ratio": _decimal(override.get("ratio")),
        "commercial_limit": _decimal(override.get("commercial_limit")),
        "ctpi_insurer": override.get("ctpi_insurer"),
        "ctpi_uninsured": override.get("ctpi_uninsured") is True,
        "misconduct": override.get("misconduct") or "",
        "seat_insurer": seat.get("insurer") if isinstance(seat, dict) else None,
        "seat_limit": _decimal(seat.get("limit_per_seat")) if isinstance(seat, dict) else None,
        "excluded_items": [c for c in excluded if c in EXCLUDABLE_ITEMS]
        if isinstance(excluded, list)
        else [],
        "covers_indirect": override.get("covers_indirect") is True,
    }


def settings_from_claims(claims: dict[str, Any], party_ids: list[str]) -> dict[str, Any]:
    """Form data of the claim-wide settings (standards year, rounding, party overrides)."""
    overrides = {p.get("id"): p for p in claims.get("parties") or []}
    year = claims.get("standards_year")
    return {
        "standards_year": "" if year is None else str(year),
        "share_rounding": (claims.get("options") or {}).get("share_rounding", "exact"),
        "parties": [
            _party_form_data(party_id, overrides.get(party_id, {})) for party_id in party_ids
        ],
    }


def _override_from_form(row: PartyOverrideForm, previous: dict[str, Any]) -> dict[str, Any]:
    override: dict[str, Any] = {
        key: value for key, value in previous.items() if key not in FORM_PARTY_OPTIONS
    }
    override["id"] = row.party.data
    if row.ratio.data is not None:
        override["ratio"] = format(row.ratio.data.normalize(), "f")
    if row.commercial_limit.data is not None:
        override["commercial_limit"] = optional_amount_text(row.commercial_limit.data)
    if (row.ctpi_insurer.data or "").strip():
        override["ctpi_insurer"] = row.ctpi_insurer.data.strip()
    if row.ctpi_uninsured.data:
        override["ctpi_uninsured"] = True
    if row.misconduct.data:
        override["misconduct"] = row.misconduct.data
    if row.seat_limit.data is not None:
        seat: dict[str, Any] = {"limit_per_seat": optional_amount_text(row.seat_limit.data)}
        if (row.seat_insurer.data or "").strip():
            seat["insurer"] = row.seat_insurer.data.strip()
        override["seat_cover"] = seat
    if row.excluded_items.data:
        override["excluded_items"] = list(row.excluded_items.data)
    if row.covers_indirect.data:
        override["covers_indirect"] = True
    return override


def claims_with_settings(claims: dict[str, Any], form: ClaimSettingsForm) -> dict[str, Any]:
    """`claims` with the settings of `form` applied."""
    updated = {k: v for k, v in claims.items() if k not in ("standards_year", "options", "parties")}
    updated.setdefault("victims", [])
    if form.standards_year.data:
        updated["standards_year"] = int(form.standards_year.data)
    options = dict(claims.get("options") or {})
    options["share_rounding"] = form.share_rounding.data
    updated["options"] = options
    previous = {p.get("id"): p for p in claims.get("parties") or [] if isinstance(p, dict)}
    parties = []
    for row in (entry.form for entry in form.parties):
        override = _override_from_form(row, previous.get(row.party.data) or {})
        if len(override) > 1:
            parties.append(override)
    if parties:
        updated["parties"] = parties
    return updated
