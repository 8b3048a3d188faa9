"""What an attacker with database superuser rights could do behind the application."""

from __future__ import annotations

from sqlalchemy import Engine, text


def bypass_triggers(engine: Engine, statement: str) -> None:
    """Run `statement` on audit_entry with its append-only triggers out of the way."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
        else:
            connection.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        connection.execute(text(statement))
