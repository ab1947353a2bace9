"""Record the liability a mediator decides where the police letter determined none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('liability_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('parties', sa.JSON(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_liability_decisions_case_id_cases')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_liability_decisions_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_liability_decisions'))
    )
    with op.batch_alter_table('liability_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_liability_decisions_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('liability_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_liability_decisions_case_id'))

    op.drop_table('liability_decisions')
