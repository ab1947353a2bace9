"""API route: the late insurer payments (issue 16 item 4; the page is /oversight/late-payments)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from app import access
from app.services import referrals
from blueprints.api import bp
from blueprints.openapi import op


@bp.get("/oversight/late-payments")
def oversight_late_payments():
    """The late payments on the cases the caller may see, with the threshold in force."""
    access.require_role(current_user, *referrals.LIST_ROLES)
    items = referrals.late_payments(current_user)
    return jsonify(
        {
            "overdue_days": referrals.current_overdue_days(),
            "items": [item.as_json() for item in items],
        }
    )


OPENAPI_PATHS = {
    "/oversight/late-payments": {
        "get": op(
            "Admins, supervision and regulators: insurer payments (交强险条例 art. 29: within 10 "
            "days of the agreement) more than `overdue_days` (REFERRAL_OVERDUE_DAYS) days past "
            "their due date (Beijing), paid late or unpaid today, over the cases the caller may "
            "see: `items` of deadline_id, case_id, case_number, insurer_id, insurer, payer, "
            "amount (agreed), due, days_late, paid, paid_on; no personal data",
            errors=("401", "403"),
        )
    }
}
