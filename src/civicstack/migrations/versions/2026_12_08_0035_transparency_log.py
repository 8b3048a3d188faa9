"""audit and exchange logs: hash chains replaced by Merkle trees with signed checkpoints

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-08 09:00:00

Writers no longer lock a chain head: an entry is inserted with no place, and the sealer gives
it one (leaf_index) in the tree. Existing entries keep their rows and are integrated by the
sealer like new ones; before them, a genesis entry (seq 0, so sealed first) records the old
chain's head hash and length, so the tree commits to the chain it replaces. The per-entry
chain hashes and the unique index on them go.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0035'
down_revision: str | None = '0034'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
PENDING = sa.text("leaf_index IS NULL")
# The sealer may set an entry's place once; nothing else of an entry may change.
SEALED_COLUMNS = ("seq", "occurred_at", "actor", "action", "subject_type", "subject_id",
                  "purpose", "detail")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _drop_audit_triggers() -> None:
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")


def _refuse(verb: str, when: str = "") -> str:
    return (f"CREATE TRIGGER audit_entry_no_{verb.lower()} BEFORE {verb} ON audit_entry "
            f"{when}BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END")


def _audit_triggers_allowing_the_seal() -> None:
    if _sqlite():
        sealed = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in SEALED_COLUMNS)
        op.execute(_refuse("UPDATE", "WHEN NOT (OLD.leaf_index IS NULL AND NEW.leaf_index IS "
                                     f"NOT NULL AND {sealed}) "))
        op.execute(_refuse("DELETE"))
        return
    op.execute(
        "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF TG_OP = 'UPDATE' AND OLD.leaf_index IS NULL AND NEW.leaf_index IS NOT NULL "
        "AND to_jsonb(NEW) - 'leaf_index' = to_jsonb(OLD) - 'leaf_index' THEN RETURN NEW; "
        "END IF; RAISE EXCEPTION 'audit_entry is append-only'; END $$")
    op.execute("CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
               "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()")


def _audit_triggers_refusing_all() -> None:
    if _sqlite():
        op.execute(_refuse("UPDATE"))
        op.execute(_refuse("DELETE"))
        return
    op.execute("CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
               "$$ BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END $$")
    op.execute("CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
               "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()")


def _chain_head(table: str) -> tuple[int, str]:
    row = op.get_bind().execute(sa.text(f"SELECT last_seq, last_hash FROM {table}")).first()  # noqa: S608
    return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def _to_tree(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column('leaf_index', sa.BigInteger().with_variant(
            sa.Integer(), 'sqlite'), nullable=True))
        if table == 'audit_entry':
            batch_op.drop_constraint('uq_audit_entry_entry_hash', type_='unique')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('entry_hash')
        batch_op.create_index(f'uq_{table}_leaf_index', ['leaf_index'], unique=True)
        batch_op.create_index(f'ix_{table}_pending', ['seq'], sqlite_where=PENDING,
                              postgresql_where=PENDING)


def upgrade() -> None:
    op.create_table(
        'tlog_node',
        sa.Column('log', sa.String(length=20), nullable=False),
        sa.Column('level', sa.SmallInteger(), nullable=False),
        sa.Column('index', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint('log', 'level', 'index', name=op.f('pk_tlog_node')))
    op.create_table(
        'tlog_checkpoint',
        sa.Column('log', sa.String(length=20), nullable=False),
        sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('log', 'size', name=op.f('pk_tlog_checkpoint')))

    audit_seq, audit_head = _chain_head('audit_chain_head')
    exchange_seq, exchange_head = _chain_head('exchange_log_head')
    _drop_audit_triggers()
    _to_tree('audit_entry')
    _to_tree('exchange_message')
    _audit_triggers_allowing_the_seal()
    op.drop_table('audit_chain_head')
    op.drop_table('exchange_log_head')
    now = datetime.now(UTC)
    if audit_seq:
        op.bulk_insert(sa.table(
            'audit_entry', sa.column('seq', sa.BigInteger), sa.column('occurred_at', sa.DateTime),
            sa.column('actor', sa.String), sa.column('action', sa.String),
            sa.column('subject_type', sa.String), sa.column('subject_id', sa.String),
            sa.column('purpose', sa.String), sa.column('detail', sa.JSON)), [{
                'seq': 0, 'occurred_at': now, 'actor': 'system:civicstack',
                'action': 'audit.log.genesis', 'subject_type': 'audit', 'subject_id': 'chain',
                'purpose': 'the hash chain this log continues',
                'detail': {'chain_head': audit_head, 'chain_length': audit_seq}}])
    if exchange_seq:
        op.bulk_insert(sa.table(
            'exchange_message', sa.column('seq', sa.BigInteger),
            sa.column('occurred_at', sa.DateTime), sa.column('member', sa.String),
            sa.column('dataset', sa.String), sa.column('subject_id', sa.String),
            sa.column('purpose', sa.String), sa.column('outcome', sa.String),
            sa.column('reason', sa.String), sa.column('request_digest', sa.String),
            sa.column('response_digest', sa.String), sa.column('latency_ms', sa.Integer)), [{
                'seq': 0, 'occurred_at': now, 'member': 'civicstack', 'dataset': 'log',
                'subject_id': '', 'purpose': 'the hash chain this log continues',
                'outcome': 'genesis', 'reason': f'chain length {exchange_seq}',
                'request_digest': exchange_head, 'response_digest': '', 'latency_ms': 0}])


# --- downgrade: the chains rebuilt from the entries (the genesis entries go) ------------------

def _moment(value: datetime | str) -> datetime:
    """SQLite hands raw SQL its datetimes back as text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _iso(value: datetime | str) -> str:
    moment = _moment(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def _audit_link(prev: str, row: sa.Row) -> str:  # type: ignore[type-arg]
    detail = row.detail if isinstance(row.detail, dict) else json.loads(row.detail)
    return hashlib.sha256(json.dumps(
        [prev, row.seq, _iso(row.occurred_at), row.actor, row.action, row.subject_type,
         row.subject_id, row.purpose, detail],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


EXCHANGE_CHAINED = ("seq", "member", "dataset", "subject_id", "purpose", "agreement_id",
                    "outcome", "reason", "request_digest", "response_digest", "latency_ms")


def _exchange_link(prev: str, row: sa.Row) -> str:  # type: ignore[type-arg]
    fields = {name: getattr(row, name) for name in EXCHANGE_CHAINED}
    moment = _moment(row.occurred_at)
    fields["occurred_at"] = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) \
        .astimezone(UTC).isoformat()
    return hashlib.sha256(json.dumps({"prev": prev, **fields}, sort_keys=True,
                                     separators=(",", ":"), ensure_ascii=False)
                          .encode()).hexdigest()


def _rechain(table: str, head_table: str, link: object) -> None:
    connection = op.get_bind()
    connection.execute(sa.text(f"DELETE FROM {table} WHERE seq = 0"))  # noqa: S608
    prev, last = GENESIS_HASH, 0
    rows = connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY seq")).all()  # noqa: S608
    for row in rows:
        digest = link(prev, row)  # type: ignore[operator]
        connection.execute(sa.text(f"UPDATE {table} SET prev_hash = :prev, entry_hash = "  # noqa: S608
                                   ":digest WHERE seq = :seq"),
                           {"prev": prev, "digest": digest, "seq": row.seq})
        prev, last = digest, row.seq
    op.create_table(head_table, sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('last_seq', sa.BigInteger(), nullable=False),
                    sa.Column('last_hash', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{head_table}')))
    connection.execute(sa.text(f"INSERT INTO {head_table} (id, last_seq, last_hash) "  # noqa: S608
                               "VALUES (1, :seq, :hash)"), {"seq": last, "hash": prev})


def _from_tree(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_index(f'ix_{table}_pending')
        batch_op.drop_index(f'uq_{table}_leaf_index')
        batch_op.drop_column('leaf_index')
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))


def _chain_columns_required(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('entry_hash', existing_type=sa.String(length=64), nullable=False)
        if table == 'audit_entry':
            batch_op.create_unique_constraint('uq_audit_entry_entry_hash', ['entry_hash'])


def downgrade() -> None:
    _drop_audit_triggers()
    for table, head_table, link in (('audit_entry', 'audit_chain_head', _audit_link),
                                    ('exchange_message', 'exchange_log_head', _exchange_link)):
        _from_tree(table)
        _rechain(table, head_table, link)
        _chain_columns_required(table)
    _audit_triggers_refusing_all()
    op.drop_table('tlog_checkpoint')
    op.drop_table('tlog_node')
