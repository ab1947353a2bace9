"""Keep verified checkpoints of the audit chain, so a check can start from the last one.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:15:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_checkpoints_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        'audit_checkpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('last_id', sa.BigInteger(), nullable=False),
        sa.Column('last_hash', sa.String(length=64), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    )
    # Checkpoints are only ever added, by a verification that succeeded, like the events.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(
            'CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE '
            'ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_refuse_change()'
        )
        op.execute(
            'CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints '
            'FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_refuse_change()'
        )
    else:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(
                f'CREATE TRIGGER audit_checkpoints_no_{verb.lower()} BEFORE {verb} '
                'ON audit_checkpoints '
                "BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints')
        op.execute('DROP TRIGGER IF EXISTS audit_checkpoints_no_truncate ON audit_checkpoints')
        op.execute('DROP FUNCTION IF EXISTS audit_checkpoints_refuse_change()')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_checkpoints_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_checkpoints_no_delete')
    op.drop_table('audit_checkpoints')
