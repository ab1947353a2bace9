"""Index the case lists' order (per organisation) and the free-text search (pg_trgm).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 17:45:00.000000
"""

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TRIGRAM = (
    ('ix_cases_number_trgm', 'cases', 'number'),
    ('ix_cases_report_no_trgm', 'cases', 'report_no'),
    ('ix_parties_name_trgm', 'parties', 'name'),
    ('ix_vehicles_plate_trgm', 'vehicles', 'plate'),
)
ORDERED = (
    ('ix_cases_created_at_id', ['created_at', 'id']),
    ('ix_cases_reporting_unit_created', ['reporting_unit_id', 'created_at', 'id']),
    ('ix_cases_committee_created', ['mediation_committee_id', 'created_at', 'id']),
    ('ix_cases_tribunal_created', ['tribunal_id', 'created_at', 'id']),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for name, columns in ORDERED:
        op.create_index(name, 'cases', columns)
    for name, table, column in TRIGRAM:
        op.create_index(
            name, table, [column],
            postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'},
        )
    op.create_index(
        'ix_parties_name_prefix', 'parties', ['name'],
        postgresql_ops={'name': 'varchar_pattern_ops'},
    )


def downgrade() -> None:
    op.drop_index('ix_parties_name_prefix', table_name='parties')
    for name, table, _column in reversed(TRIGRAM):
        op.drop_index(name, table_name=table)
    for name, _columns in reversed(ORDERED):
        op.drop_index(name, table_name='cases')
