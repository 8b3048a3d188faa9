"""registry: a trigram index of the folded name, for search by any part of it

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-09 12:00:00

PostgreSQL: the pg_trgm extension (shipped with PostgreSQL's contrib modules) and a GIN
trigram index on person.full_name_folded, which answers `LIKE '%van a%'` and the similarity
operator `%` (a name typed with a mistake) without reading the whole table. The folded name
itself has been kept since the first revision, so nothing is back-filled. SQLite gets a plain
index of the column, as the models describe it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0042'
down_revision: str | None = '0041'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.create_index('ix_person_name_trigrams', 'person', ['full_name_folded'],
                    postgresql_using='gin',
                    postgresql_ops={'full_name_folded': 'gin_trgm_ops'})


def downgrade() -> None:
    op.drop_index('ix_person_name_trigrams', table_name='person')
