"""The JSON request bodies of /api/v1, declared once: the views read requests with them and
the OpenAPI document (blueprints/openapi.py) describes them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.validation import VERSION, Body, Field

# A write that takes no body: a JSON body sent anyway may hold no field.
NO_BODY = Body((), optional=True)
TOKEN = Body(
    (
        Field("username", _l("Username"), required=True, limit=64),
        Field("password", _l("Password"), required=True, limit=1024),
    )
)
CONFIRM = Body(
    (
        VERSION,
        Field("fields", _l("Corrected report fields"), "object", description="INTERFACES.md §2"),
    ),
    optional=True,
)
CASE_VERSION = Body((VERSION,), optional=True)
CLAIMS = Body(
    (
        VERSION,
        Field("victims", _l("Victims"), "array", required=True),
        Field("parties", _l("Parties"), "array"),
        Field("options", _l("Options"), "object"),
        Field("standards_year", _l("Standards year"), "integer"),
        Field("standards", _l("Compensation standards"), "object"),
    ),
    # Stored as sent; the engine refuses unknown keys inside victims, parties (checked by
    # assessments.build_input), options and standards.
    sparse=True,
)
WHAT_IF = Body(
    (
        Field(
            "ratios",
            _l("Liability ratios"),
            "object",
            description="party label → ratio 0–1 (null: by liability)",
        ),
        Field("standards_year", _l("Standards year"), "integer"),
        Field(
            "items", _l("Items"), "object", description="victim id → {item code → decided amount}"
        ),
    ),
)
INSURER_CLAIM = Body(
    (
        # Not the case's version: the insurer's own details lock on their record's version.
        Field(
            "version",
            _l("Version of the insurer's details"),
            "integer",
            description="the version of these details the caller saw (GET …/insurer-claim); "
            "none for the first save; a stale one 409",
        ),
        Field(
            "policies",
            _l("Policies"),
            "object",
            description="party label → {ctpi_policy_no, commercial_policy_no, commercial_limit, "
            "commercial_excluded, exclusion_reason}",
        ),
        Field(
            "advanced",
            _l("Advance paid"),
            "any",
            description='yuan, at most two decimals, e.g. "1200.50"; "" clears it',
        ),
        Field("advance_note", _l("Note on the advance"), limit=1000),
    )
)
PAYMENT = Body(
    (
        VERSION,
        Field("payer", _l("Payer"), limit=100),
        Field("amount", _l("Amount"), "amount"),
        Field("reference", _l("Payment reference"), limit=200),
        Field("paid_on", _l("Paid on"), "date"),
    )
)
ASSIGNMENT = Body(
    (
        Field("committee_id", _l("Mediation committee"), "integer"),
        Field("mediator_id", _l("Mediator"), "integer", description="null: the least loaded"),
    ),
    optional=True,
)
SESSION = Body(
    (
        Field("starts_at", _l("Start of the session"), "datetime", required=True),
        Field("place", _l("Place of the session"), limit=300),
        Field("video_link", _l("Video link"), limit=500),
        Field("notes", _l("Notes"), limit=20000),
    )
)
SESSION_NOTES = Body(
    (
        Field("session_id", _l("Mediation session"), "integer", required=True),
        Field("notes", _l("Notes"), limit=20000),
    )
)
MEDIATION_FAILED = Body((VERSION, Field("reason", _l("Reason"), limit=4000)))
LIABILITY = Body(
    (
        VERSION,
        Field("parties", _l("Parties"), "array", required=True),
        Field("basis", _l("Basis of the decision"), required=True, limit=500),
    )
)
NOTIFICATIONS_READ = Body(
    (Field("ids", _l("Notifications"), "array", description="none: all of them"),),
    optional=True,
)
OFFER = Body(
    (
        VERSION,
        Field(
            "payer", _l("Payer"), limit=100, description="ctpi:甲方, commercial:甲方 or party:甲方"
        ),
        Field(
            "amount",
            _l("Amount"),
            "any",
            description='yuan, at most two decimals, e.g. "20000.50"; computed from items when '
            "omitted; 422 amount_too_large from 1,000,000,000,000",
        ),
        Field(
            "items",
            _l("Items"),
            "object",
            description="victim id → {item code → amount}: item amounts of the assessment",
        ),
        Field("note", _l("Note"), limit=2000),
        Field(
            "reason",
            _l("Reason"),
            limit=2000,
            description="required above the payer's assessed total (or a ctpi payer's limits): "
            "422 reason_required names the difference",
        ),
        Field(
            "expires_at",
            _l("Expiry"),
            "datetime",
            with_offset=True,
            description="ISO 8601 with offset; starts an offer_expiry deadline",
        ),
        Field(
            "parent_id",
            _l("The offer answered"),
            "integer",
            description="the open offer this one counters",
        ),
        Field(
            "side",
            _l("Side"),
            limit=20,
            description="insurer | claimant | party: mediators claimant (default) or party (a "
            "liable party's position for a party: payer); adjusters insurer",
        ),
    )
)
ANSWER = Body((VERSION, Field("note", _l("Note"), limit=2000)), optional=True)
WITHDRAWAL = Body((VERSION,), optional=True)
AGREEMENT = Body(
    (
        VERSION,
        Field("payment_method", _l("Payment method"), required=True, limit=2000),
        Field("payment_due", _l("Payment due"), "date"),
    )
)
CONFIRMATION_REQUEST = Body(
    (VERSION, Field("tribunal_org_id", _l("Tribunal"), "integer")), optional=True
)
EXTENSION = Body((VERSION, Field("reason", _l("Reason"), limit=2000)))
DECISION = Body(
    (
        VERSION,
        Field("decision", _l("Decision"), limit=20, description="confirm | reject"),
        Field("grounds", _l("Grounds"), "array"),
        Field("reason", _l("Reason"), limit=2000),
        Field("next_step", _l("Next step"), limit=20, description="mediation | litigation"),
    )
)
