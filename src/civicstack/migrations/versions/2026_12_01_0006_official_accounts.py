"""identity: officials' console accounts; operator keys get a role and one scope

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:30:00

Existing keys keep at most what they had (docs/officials.md): each becomes the role with the
most permissions that its old permission set wholly contains ("registry:write" counting as both
kinds of register write), so no key gains a permission. A key that fits no role (e.g. only
"audit:read"), or that was limited to several provinces (a role has one scope), is revoked and
must be reissued with `civicstack apikey create --role`. Each such key is logged as a warning.
"""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENT = sa.DateTime(timezone=True)
ROLE_CHECK = "role IN ('police', 'service_clerk', 'agency_approver', 'admin')"
SCOPE_CHECK = (
    "(scope_level = 'national' AND scope_province_code IS NULL AND scope_ward_code IS NULL)"
    " OR (scope_level = 'province' AND scope_province_code IS NOT NULL"
    " AND scope_ward_code IS NULL)"
    " OR (scope_level = 'ward' AND scope_province_code IS NOT NULL"
    " AND scope_ward_code IS NOT NULL)")
# Frozen at this revision (kit/authz.py may change later): old permission strings each role
# needs, largest role first. Admin is absent: no old key held "officials:manage".
OLD_SCOPES_OF_ROLE = (
    ("police", {"registry:read", "registry:write", "identity:approve", "identity:level2"}),
    ("service_clerk", {"registry:read", "registry:write", "identity:approve"}),
    ("agency_approver", {"registry:read"}),
)
log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.create_table('official_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=50), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', MOMENT, nullable=True),
    sa.Column('totp_secret', sa.String(length=200), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('totp_enrolled_at', MOMENT, nullable=True),
    sa.Column('session_generation', sa.Integer(), nullable=False),
    sa.Column('created_at', MOMENT, nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('scope_level', sa.String(length=10), nullable=False),
    sa.Column('scope_province_code', sa.String(length=2), nullable=True),
    sa.Column('scope_ward_code', sa.String(length=5), nullable=True),
    sa.CheckConstraint("status IN ('active', 'disabled')",
                       name=op.f('ck_official_account_status_known')),
    sa.CheckConstraint(ROLE_CHECK, name=op.f('ck_official_account_role_known')),
    sa.CheckConstraint(SCOPE_CHECK, name=op.f('ck_official_account_scope_consistent')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_official_account')),
    sa.UniqueConstraint('username', name=op.f('uq_official_account_username'))
    )

    with op.batch_alter_table('operator_api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('scope_level', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('scope_province_code', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('scope_ward_code', sa.String(length=5), nullable=True))
    _give_keys_roles()
    with op.batch_alter_table('operator_api_key', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('scope_level', existing_type=sa.String(length=10), nullable=False)
        batch_op.drop_column('province_scope')
        batch_op.drop_column('scopes')
        batch_op.create_check_constraint(op.f('ck_operator_api_key_role_known'), ROLE_CHECK)
        batch_op.create_check_constraint(op.f('ck_operator_api_key_scope_consistent'),
                                        SCOPE_CHECK)


def _give_keys_roles() -> None:
    keys = sa.table('operator_api_key', sa.column('id', sa.Integer), sa.column('name', sa.String),
                    sa.column('scopes', sa.String), sa.column('province_scope', sa.String),
                    sa.column('revoked_at', MOMENT), sa.column('role', sa.String),
                    sa.column('scope_level', sa.String),
                    sa.column('scope_province_code', sa.String))
    bind = op.get_bind()
    for key_id, name, scopes, provinces, revoked_at in bind.execute(sa.select(
            keys.c.id, keys.c.name, keys.c.scopes, keys.c.province_scope, keys.c.revoked_at)):
        held = set(scopes.split())
        role = next((r for r, needed in OLD_SCOPES_OF_ROLE if needed <= held), None)
        codes = [code for code in provinces.split(",") if code]
        values: dict[str, object] = {
            "role": role or "agency_approver",
            "scope_level": "province" if len(codes) == 1 else "national",
            "scope_province_code": codes[0] if len(codes) == 1 else None,
        }
        if (role is None or len(codes) > 1) and revoked_at is None:
            log.warning("operator key %r (%s; provinces %s) fits no single role and scope: "
                        "revoked, reissue it with `civicstack apikey create --role`",
                        name, scopes, provinces or "all")
            values["revoked_at"] = datetime.now(UTC)
        bind.execute(keys.update().where(keys.c.id == key_id).values(**values))


def downgrade() -> None:
    # Back to permission strings: each role's old strings (admin: all of them), one province.
    with op.batch_alter_table('operator_api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('province_scope', sa.String(length=500), nullable=True))
    everything = "audit:read identity:approve identity:level2 registry:read registry:write"
    for role, needed in (*OLD_SCOPES_OF_ROLE, ("admin", set(everything.split()))):
        op.execute(sa.text("UPDATE operator_api_key SET scopes = :scopes WHERE role = :role")
                   .bindparams(scopes=" ".join(sorted(needed)), role=role))
    op.execute("UPDATE operator_api_key SET province_scope = COALESCE(scope_province_code, '')")
    with op.batch_alter_table('operator_api_key', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.String(length=500), nullable=False)
        batch_op.alter_column('province_scope', existing_type=sa.String(length=500),
                              nullable=False)
        batch_op.drop_constraint(op.f('ck_operator_api_key_scope_consistent'), type_='check')
        batch_op.drop_constraint(op.f('ck_operator_api_key_role_known'), type_='check')
        batch_op.drop_column('scope_ward_code')
        batch_op.drop_column('scope_province_code')
        batch_op.drop_column('scope_level')
        batch_op.drop_column('role')
    op.drop_table('official_account')
