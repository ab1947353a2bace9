"""Index the transition events for the oversight figures (app/stats.py).

`(action, occurred_at, case_id)`: the cases received in a period are a range of
`case.confirmed` events, read from the index alone. `(case_id, action, occurred_at)`: each of
those cases' transition times (agreement signed, paid, …) without reading the events' rows,
which are wide (details JSON, hashes). Measured in bench/README.md ("Oversight figures").

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 22:45:00.000000
"""

from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_audit_events_action_occurred_case',
        'audit_events',
        ['action', 'occurred_at', 'case_id'],
    )
    op.create_index(
        'ix_audit_events_case_action_occurred',
        'audit_events',
        ['case_id', 'action', 'occurred_at'],
    )


def downgrade() -> None:
    op.drop_index('ix_audit_events_case_action_occurred', table_name='audit_events')
    op.drop_index('ix_audit_events_action_occurred_case', table_name='audit_events')
