"""Record each case's milestones: when it first reached each stage, and whether the tribunal
ever rejected its confirmation (app/milestones.py), written from the audit log for existing
cases. The figures read a period's cases from them (issue 16: a year at 1,000,000 cases).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# app.milestones.MILESTONES as it stood when this migration was written.
MILESTONES = {
    'case.created': 'created_at',
    'case.confirmed': 'received_at',
    'claims.filed': 'claims_at',
    'case.assessed': 'assessed_at',
    'agreement.signed': 'agreed_at',
    'mediation.failed': 'failed_at',
    'confirmation.confirmed': 'confirmed_at',
    'case.paid': 'paid_at',
}
REJECTED = 'confirmation.rejected'


def upgrade() -> None:
    op.create_table(
        'case_milestones',
        sa.Column('case_id', sa.Integer(), nullable=False),
        *(sa.Column(column, sa.DateTime(timezone=True), nullable=True) for column in MILESTONES.values()),
        sa.Column('rejected', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'], name=op.f('fk_case_milestones_case_id_cases'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_milestones')),
    )
    firsts = ', '.join(
        f"min(CASE WHEN action = '{action}' THEN occurred_at END)" for action in MILESTONES
    )
    actions = ', '.join(f"'{action}'" for action in [*MILESTONES, REJECTED])
    op.execute(
        f"INSERT INTO case_milestones (case_id, {', '.join(MILESTONES.values())}, rejected) "
        f"SELECT case_id, {firsts}, count(CASE WHEN action = '{REJECTED}' THEN 1 END) > 0 "
        f"FROM audit_events WHERE case_id IS NOT NULL AND action IN ({actions}) "
        "GROUP BY case_id"
    )
    op.create_index('ix_case_milestones_received', 'case_milestones', ['received_at', 'case_id'])


def downgrade() -> None:
    op.drop_index('ix_case_milestones_received', table_name='case_milestones')
    op.drop_table('case_milestones')
