"""Record applications for judicial confirmation, their decisions and ruling numbers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 08:11:24.323293
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ruling_sequences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tribunal_org_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tribunal_org_id'], ['organizations.id'], name=op.f('fk_ruling_sequences_tribunal_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ruling_sequences')),
    sa.UniqueConstraint('tribunal_org_id', 'year', name=op.f('uq_ruling_sequences_tribunal_org_id_year'))
    )
    op.create_table('confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('tribunal_org_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('requested', 'accepted', 'confirmed', 'rejected', name='confirmation_status', native_enum=False, length=20), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extension_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('grounds', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('next_step', sa.String(length=20), nullable=True),
    sa.Column('ruling_number', sa.String(length=60), nullable=True),
    sa.Column('ruling_document_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_confirmations_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_confirmations_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_confirmations_case_id_cases')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_confirmations_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_confirmations_requested_by_id_users')),
    sa.ForeignKeyConstraint(['ruling_document_id'], ['documents.id'], name=op.f('fk_confirmations_ruling_document_id_documents')),
    sa.ForeignKeyConstraint(['tribunal_org_id'], ['organizations.id'], name=op.f('fk_confirmations_tribunal_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confirmations')),
    sa.UniqueConstraint('ruling_number', name=op.f('uq_confirmations_ruling_number'))
    )
    with op.batch_alter_table('confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_confirmations_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_confirmations_tribunal_org_id'), ['tribunal_org_id'], unique=False)

    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_number_format', sa.String(length=100), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('case_number_format')

    with op.batch_alter_table('confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_confirmations_tribunal_org_id'))
        batch_op.drop_index(batch_op.f('ix_confirmations_case_id'))

    op.drop_table('confirmations')
    op.drop_table('ruling_sequences')
