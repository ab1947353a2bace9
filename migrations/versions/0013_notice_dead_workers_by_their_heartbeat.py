"""Notice dead workers by their heartbeat: `workers` and the worker that claimed each job.

A worker's heartbeat thread renews its row every WORKER_HEARTBEAT_SECONDS; a running job whose
worker stopped beating for WORKER_DEAD_SECONDS is reclaimed, not only after its lease.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:00:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'workers',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('worker', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('worker')
    op.drop_table('workers')
