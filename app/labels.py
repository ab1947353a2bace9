"""Display names of states and kinds, translated when shown."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

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
}

ROLE_LABELS = {
    "police": _l("Traffic police"),
    "adjuster": _l("Insurance adjuster"),
    "mediator": _l("Mediator"),
    "judge": _l("Judge"),
    "admin": _l("Administrator"),
}


def init_app(app: Flask) -> None:
    """Make the label tables available to every template."""
    app.jinja_env.globals.update(
        STATUS_LABELS=STATUS_LABELS,
        JOB_STATUS_LABELS=JOB_STATUS_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        ORG_KIND_LABELS=ORG_KIND_LABELS,
    )
