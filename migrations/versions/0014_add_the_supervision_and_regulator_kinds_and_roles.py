"""Add the overseeing organisation kinds and roles: `supervision`/`supervisor`, `regulator`.

`organizations.kind` and `users.role` were created in 0001 as non-native enums
(`native_enum=False`, no CHECK constraint): plain VARCHAR(20) on PostgreSQL and SQLite, with
the allowed values checked by the application. The new values (at most 11 characters) fit, so
upgrading changes no schema; the revision marks the first schema version whose code knows them.
Downgrading refuses while rows use them, because the code of 0013 cannot load such rows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 22:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

NEW_KINDS = ('supervision', 'regulator')
NEW_ROLES = ('supervisor', 'regulator')


def upgrade() -> None:
    """Nothing to alter: the columns are VARCHAR(20) without a CHECK constraint."""


def downgrade() -> None:
    connection = op.get_bind()
    organizations = connection.execute(
        sa.text('SELECT count(*) FROM organizations WHERE kind IN :kinds').bindparams(
            sa.bindparam('kinds', NEW_KINDS, expanding=True)
        )
    ).scalar_one()
    users = connection.execute(
        sa.text('SELECT count(*) FROM users WHERE role IN :roles').bindparams(
            sa.bindparam('roles', NEW_ROLES, expanding=True)
        )
    ).scalar_one()
    if organizations or users:
        raise RuntimeError(
            f'{organizations} organisation(s) and {users} user(s) are supervision or regulator '
            'ones; deactivate and re-kind or remove them before downgrading below 0014'
        )
