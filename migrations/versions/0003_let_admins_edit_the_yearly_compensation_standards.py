"""Let admins edit the yearly compensation standards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:12:05.418530
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "standard_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("industry_wages", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_standard_sets_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standard_sets")),
        sa.UniqueConstraint(
            "jurisdiction", "year", name=op.f("uq_standard_sets_jurisdiction_year")
        ),
    )


def downgrade() -> None:
    op.drop_table("standard_sets")
