"""kit: the stored secrets also hold key pairs (a private key and its X.509 certificate), so the
agencies' document-signing keys and the demo root CA are the same on every instance

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-10 09:00:00

The PEM files an older version kept in DATA_DIR/keys/agencies are adopted at first use (or by
`civicstack keys import-files`), not here: a migration is not given the root key.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0040'
down_revision: str | None = '0039'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES_BEFORE = "'secret', 'signing key'"


def _allow(purposes: str) -> None:
    with op.batch_alter_table('stored_secret', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_stored_secret_purpose_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_stored_secret_purpose_known'),
                                         f"purpose IN ({purposes})")


def upgrade() -> None:
    _allow(f"{PURPOSES_BEFORE}, 'key pair'")


def downgrade() -> None:
    op.execute("DELETE FROM stored_secret WHERE purpose = 'key pair'")
    _allow(PURPOSES_BEFORE)
