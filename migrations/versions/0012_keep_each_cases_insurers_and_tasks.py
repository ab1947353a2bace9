"""Keep each case's insurers and what it waits for from whom, for indexed filters and queues.

`case_insurers` is filled here from the policies. `case_tasks` is worked out by the app's rules
(app/worklist.py): `daojiao db upgrade` fills it after this revision (`daojiao worklist
rebuild` does it by hand).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:40:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_insurers',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id']),
        sa.PrimaryKeyConstraint('case_id', 'org_id'),
    )
    op.create_index('ix_case_insurers_org_case', 'case_insurers', ['org_id', 'case_id'])
    op.execute(
        'INSERT INTO case_insurers (case_id, org_id) '
        'SELECT DISTINCT vehicles.case_id, policies.insurer_org_id '
        'FROM policies JOIN vehicles ON vehicles.id = policies.vehicle_id '
        'WHERE policies.insurer_org_id IS NOT NULL'
    )
    op.create_table(
        'case_tasks',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('actions', sa.JSON(), nullable=False),
        sa.Column('deadline_id', sa.Integer(), nullable=True),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['deadline_id'], ['deadlines.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id']),
        sa.PrimaryKeyConstraint('case_id', 'org_id'),
    )
    op.create_index(
        'ix_case_tasks_org_order', 'case_tasks', ['org_id', 'due_at', 'since', 'case_id']
    )


def downgrade() -> None:
    op.drop_index('ix_case_tasks_org_order', table_name='case_tasks')
    op.drop_table('case_tasks')
    op.drop_index('ix_case_insurers_org_case', table_name='case_insurers')
    op.drop_table('case_insurers')
