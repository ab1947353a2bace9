"""Keep the amount of a bill attached as evidence, and the reason for an offer above what the
assessment or the compulsory insurance limits allow.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True))
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('reason')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('amount')
