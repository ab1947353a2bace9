"""Record the late-payment referrals (监管提示函) sent to the insurance regulators.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 23:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("issuer_org_id", sa.Integer(), nullable=False),
        sa.Column("issuer_user_id", sa.Integer(), nullable=False),
        sa.Column("regulator_org_id", sa.Integer(), nullable=False),
        sa.Column("insurer_org_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("object_key", sa.String(length=300), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["issuer_org_id"],
            ["organizations.id"],
            name=op.f("fk_referrals_issuer_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["issuer_user_id"], ["users.id"], name=op.f("fk_referrals_issuer_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["regulator_org_id"],
            ["organizations.id"],
            name=op.f("fk_referrals_regulator_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["insurer_org_id"],
            ["organizations.id"],
            name=op.f("fk_referrals_insurer_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("number", name=op.f("uq_referrals_number")),
    )
    op.create_index("ix_referrals_regulator_org_id", "referrals", ["regulator_org_id"])
    op.create_index("ix_referrals_insurer_org_id", "referrals", ["insurer_org_id"])


def downgrade() -> None:
    op.drop_index("ix_referrals_insurer_org_id", table_name="referrals")
    op.drop_index("ix_referrals_regulator_org_id", table_name="referrals")
    op.drop_table("referrals")
