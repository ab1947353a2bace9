"""Display names of states and kinds, translated when shown."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext
from flask_babel import lazy_gettext as _l


def N_(text: str) -> str:  # noqa: N802 - the usual gettext marker name
    """Mark text for translation where it is stored untranslated (translated when shown)."""
    return text


STATUS_LABELS = {
    "draft": _l("Draft"),
    "reported": _l("Reported"),
    "assessing": _l("Assessing"),
    "negotiating": _l("Negotiating"),
    "agreed": _l("Agreed"),
    "confirming": _l("Awaiting confirmation"),
    "confirmed": _l("Confirmed"),
    "litigation": _l("Litigation"),
    "paid": _l("Paid"),
    "closed": _l("Closed"),
    "withdrawn": _l("Withdrawn"),
}

JOB_STATUS_LABELS = {
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "succeeded": _l("Done"),
    "failed": _l("Failed"),
}

ORG_KIND_LABELS = {
    "police": _l("Traffic police unit"),
    "insurer": _l("Insurer"),
    "mediation": _l("Mediation committee"),
    "tribunal": _l("Road-traffic tribunal"),
    "platform": _l("Platform administration"),
    "supervision": _l("Political-legal committee (public-safety office)"),
    "regulator": _l("Financial regulatory branch"),
}

DOCUMENT_KINDS = {
    "report": _l("Accident liability letter"),
    "photo": _l("Photo"),
    "medical_bill": _l("Medical bill"),
    "appraisal": _l("Appraisal report"),
    "other": _l("Other"),
    "agreement": _l("Settlement agreement"),
    "signed_agreement": _l("Signed settlement agreement"),
    "ruling": _l("Ruling"),
    "filing_package": _l("Filing package"),
}

JOB_KINDS = {
    "reports.read": _l("Reading the accident letter"),
    "documents.preview": _l("Preparing a preview"),
    "documents.verify": _l("Checking a stored file"),
    "assessments.run": _l("Assessing the compensation"),
}

ROLE_LABELS = {
    "police": _l("Traffic police"),
    "adjuster": _l("Insurance adjuster"),
    "mediator": _l("Mediator"),
    "judge": _l("Judge"),
    "admin": _l("Administrator"),
    "supervisor": _l("Political-legal supervisor"),
    "regulator": _l("Financial regulator"),
}

# Compensation items (DOMAIN.md §2); the engine's own labels are Chinese, these follow the locale.
ITEM_LABELS = {
    "medical": _l("Medical costs"),
    "future_medical": _l("Follow-up treatment"),
    "rehabilitation": _l("Rehabilitation"),
    "lost_income": _l("Lost income"),
    "nursing": _l("Nursing care"),
    "transport": _l("Transport"),
    "lodging": _l("Lodging"),
    "hospital_food": _l("Hospital food allowance"),
    "nutrition": _l("Nutrition"),
    "disability_compensation": _l("Disability compensation"),
    "assistive_devices": _l("Assistive devices"),
    "funeral": _l("Funeral costs"),
    "death_compensation": _l("Death compensation"),
    "dependents_living": _l("Dependents' living expenses"),
    "mental_distress": _l("Mental distress"),
    "property": _l("Property loss"),
    "indirect_property": _l("Loss of use"),
    "appraisal_fee": _l("Appraisal fee"),
}
BUCKET_LABELS = {
    "medical": _l("Medical"),
    "death_disability": _l("Death and disability"),
    "property": _l("Property"),
    "none": _l("Not covered by compulsory insurance"),
}
PAYER_KINDS = {
    "ctpi": _l("Compulsory insurance"),
    "commercial": _l("Commercial insurance"),
    "seat": _l("Passenger liability insurance"),
    "party": _l("Party"),
    "self": _l("Victim's own share"),
    # 道路交通事故社会救助基金: only ever advances (垫付), never owes a payment.
    "fund": _l("Road Traffic Accident Social Assistance Fund"),
}
# Why an insurer may recover what it paid from the driver (交强险条例 art. 22; 道交解释 art. 15).
RECOVERY_REASONS = {
    "drunk": _l("Drunk driving"),
    "drugs": _l("Driving under the influence of drugs"),
    "unlicensed": _l("Driving without a licence"),
    "intentional": _l("Deliberate collision"),
}
# A reduction of the liable side's share (民法典 arts. 1217, 1173).
REDUCTION_KINDS = {
    "gratuitous_ride": _l("Free ride"),
    "victim_fault": _l("Victim's own fault"),
}
# The industries of the standards' average wages, by their names in 国民经济行业分类 (GB/T 4754).
INDUSTRY_LABELS = {
    "agriculture": _l("Agriculture, forestry, animal husbandry and fishery"),
    "mining": _l("Mining"),
    "manufacturing": _l("Manufacturing"),
    "utilities": _l("Electricity, heat, gas and water production and supply"),
    "construction": _l("Construction"),
    "wholesale_retail": _l("Wholesale and retail trade"),
    "transport": _l("Transport, storage and postal services"),
    "hotels_catering": _l("Accommodation and catering"),
    "it": _l("Information transmission, software and information technology services"),
    "finance": _l("Finance"),
    "real_estate": _l("Real estate"),
    "leasing_business": _l("Leasing and business services"),
    "research": _l("Scientific research and technical services"),
    "water_environment": _l("Water conservancy, environment and public facilities management"),
}
OUTCOME_LABELS = {
    "injury": _l("Injury"),
    "disability": _l("Disability"),
    "death": _l("Death"),
    "property": _l("Property only"),
}
RESIDENCE_LABELS = {"urban": _l("Urban"), "rural": _l("Rural")}
# The deadline ledger's timers (app/data/deadlines.json).
DEADLINE_KINDS = {
    "mediation_window": _l("Mediation to be finished"),
    "offer_expiry": _l("Offer to be answered"),
    "insurer_payment": _l("Insurer to pay"),
    "confirmation_application": _l("Apply for judicial confirmation"),
    "court_acceptance": _l("Tribunal to accept the application"),
    "court_decision": _l("Tribunal to decide"),
}
# Steps that hold a case up without a legal timer (deadlines.waiting_steps).
WAITING_STEPS = {"liability_decision": _l("Decide the accident liability")}
LIABILITY_LABELS = {
    "full": _l("Full"),
    "main": _l("Main"),
    "equal": _l("Equal"),
    "minor": _l("Minor"),
    "none": _l("None"),
}
DEADLINE_STATUS_LABELS = {
    "open": _l("Running"),
    "due": _l("Due soon"),
    "overdue": _l("Overdue"),
    "met": _l("Met"),
    "cancelled": _l("Cancelled"),
}


def mask_id_number(value: str | None) -> str | None:
    """Keep the first four and last four characters of an ID number: 1423**********0012."""
    if not value or len(value) <= 8:
        return value
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def init_app(app: Flask) -> None:
    """Make the label tables available to every template."""
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.globals.update(
        STATUS_LABELS=STATUS_LABELS,
        JOB_STATUS_LABELS=JOB_STATUS_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        ORG_KIND_LABELS=ORG_KIND_LABELS,
        REPORT_ERRORS=REPORT_ERRORS,
        DOCUMENT_KINDS=DOCUMENT_KINDS,
        JOB_KINDS=JOB_KINDS,
        ITEM_LABELS=ITEM_LABELS,
        BUCKET_LABELS=BUCKET_LABELS,
        OUTCOME_LABELS=OUTCOME_LABELS,
        DEADLINE_KINDS=DEADLINE_KINDS,
        DEADLINE_STATUS_LABELS=DEADLINE_STATUS_LABELS,
        PAYER_KINDS=PAYER_KINDS,
        LIABILITY_LABELS=LIABILITY_LABELS,
        RECOVERY_REASONS=RECOVERY_REASONS,
        REDUCTION_KINDS=REDUCTION_KINDS,
    )


REPORT_ERRORS = {
    "not_pdf": N_(
        "The file is not a PDF. Upload the accident liability letter (事故认定书) as a PDF file."
    ),
    "encrypted": N_(
        "The PDF is protected by a password. Save it again without a password, then upload it."
    ),
    "no_text_layer": N_(
        "The PDF has no text in it (a scan or a photo), so nothing could be read "
        "automatically. Upload the PDF exported from the traffic management "
        "system, or type the fields in by hand."
    ),
    "not_a_report": N_(
        "This PDF does not look like an accident liability letter (事故认定书). "
        "Check that you chose the right file."
    ),
    "too_large": N_(
        "The file is larger than 20 MB or too complex to read. Export it again "
        "without scanned images if you can."
    ),
    "timeout": N_(
        "Reading the file took too long. Export it again, or type the fields in by hand."
    ),
    "damaged": N_("The PDF is damaged or incomplete. Export or download it again, then upload it."),
}


def report_error_message(code: str) -> str:
    """What a police clerk is told when a report cannot be read, in the current language."""
    return gettext(REPORT_ERRORS.get(code, REPORT_ERRORS["damaged"]))


# What each parser warning `code` means (INTERFACES.md §2), for readers of another language than
# the parser's Chinese messages.
REPORT_WARNINGS = {
    "ocr_unsure": N_(
        "The scan could not be read with certainty here, so the field was left empty: fill it "
        "in from the original."
    ),
    "check_digit": N_("The ID number's check digit is wrong (GB 11643): check it."),
    "old_id": N_("An old 15-digit ID number, which has no check digit."),
    "id_date": N_("The date of birth in the ID number does not exist: check it."),
    "disagree": N_("This value disagrees with another part of the letter: check it."),
    "conflict": N_("The letter writes this value in two different ways: check it."),
    "not_found": N_("This was not found where the letter should state it: check it."),
    "date": N_("The date or time could not be read, or is implausible: check it."),
    "no_time": N_("The letter gives the accident's date without its time."),
    "plate_pattern": N_("The plate does not follow the plate numbering rules: check it."),
    "insurer": N_("This does not look like the name of an insurance company: check it."),
    "insurer_unknown": N_("The insurer's name is not among the known insurers: check it."),
    "duplicate": N_("Two parties have the same value here: check it."),
    "image_page": N_("A page is only an image and was not read: check it against the original."),
    "invalid": N_("This value could not be read as written: check it."),
    "amount": N_("The amount could not be read: check it."),
}


def report_warning_message(warning: dict[str, str]) -> str:
    """A parser warning for people: its own (Chinese) message in Chinese, else the translation
    of what its code means; the parser's message when the code is not known here."""
    from flask_babel import get_locale

    message = warning.get("message") or ""
    known = REPORT_WARNINGS.get(warning.get("code") or "")
    locale = get_locale()
    if known is None or (message and locale is not None and locale.language == "zh"):
        return message or (warning.get("code") or "")
    return gettext(known)


# What each assessment warning `code` means (the engine's `warnings`), for readers of another
# language than the engine's Chinese messages.
ASSESSMENT_WARNINGS = {
    "stale_standards": N_(
        "The standards year applied is not the latest published one: check the figures before "
        "the agreement is signed."
    ),
    "standards_not_in_force": N_(
        "The standards applied were not in force on the day the figures apply: check which "
        "standards apply."
    ),
    "rural_dependent_consumption": N_(
        "A dependent's living expenses use the dependent's own consumption figure, although "
        "urban figures apply to accidents since 2022-05-01: check it."
    ),
}


def assessment_warning_message(warning: dict[str, str]) -> str:
    """An assessment warning for people: the engine's own (Chinese) message in Chinese, else
    the translation of what its code means; the engine's message when the code is not known."""
    from flask_babel import get_locale

    message = warning.get("message") or ""
    known = ASSESSMENT_WARNINGS.get(warning.get("code") or "")
    locale = get_locale()
    if known is None or (message and locale is not None and locale.language == "zh"):
        return message or (warning.get("code") or "")
    return gettext(known)
