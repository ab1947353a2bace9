"""Keep each case's type (injury, death, property) on the case, set when claims are filed.

The figures filter by it (issue 16); worked out from the latest claims' JSON for every case of a
period it cost about 0.4 s a month at 1,000,000 cases, and only PostgreSQL could do it in SQL.
Existing cases get the type of their latest claims, by the rule of `app.stats.case_type_of`.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 02:00:00.000000
"""

import json

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# The rule of app.stats.case_type_of, frozen here as it stood when this migration was written.
DEATH_ITEMS = ('death_compensation', 'funeral')
PROPERTY_ITEMS = ('property', 'indirect_property')


def case_type_of(data):
    items = [key for victim in data.get('victims') or [] for key in victim.get('items') or {}]
    if any(item in DEATH_ITEMS for item in items):
        return 'death'
    if any(item not in PROPERTY_ITEMS for item in items):
        return 'injury'
    return 'property'


def upgrade() -> None:
    op.add_column('cases', sa.Column('case_type', sa.String(length=10), nullable=True))
    bind = op.get_bind()
    # The latest claims of each case, a batch of cases at a time (keyset on the case id).
    latest = sa.text(
        'SELECT claims.case_id, claims.data FROM claims '
        'JOIN (SELECT case_id, max(id) AS id FROM claims WHERE case_id > :after '
        'GROUP BY case_id ORDER BY case_id LIMIT 5000) AS newest ON newest.id = claims.id '
        'ORDER BY claims.case_id'
    )
    update = sa.text('UPDATE cases SET case_type = :case_type WHERE id = :case_id')
    after = 0
    while rows := bind.execute(latest, {'after': after}).all():
        bind.execute(
            update,
            [
                {'case_id': case_id, 'case_type': case_type_of(_json(data))}
                for case_id, data in rows
            ],
        )
        after = rows[-1][0]


def _json(data):
    return json.loads(data) if isinstance(data, str) else data or {}


def downgrade() -> None:
    op.drop_column('cases', 'case_type')
