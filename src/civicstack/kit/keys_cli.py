"""`civicstack keys ...`: the root key, the secrets and signing keys stored under it, and the
move of an older installation's files into the database (docs/keys.md). Each domain adds the
rotation of its own signing keys to this group."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from pydantic import SecretStr

from civicstack.config import get_settings
from civicstack.kit import audit, keys, secrets
from civicstack.kit.cli_support import CLI_ACTOR, cli_transaction, fail, secret_store
from civicstack.kit.keyprovider import DEMO_ROOT_KEY_FILE, key_provider, new_root_key
from civicstack.kit.private_files import FILE_MODE

keys_app = typer.Typer(help="The root key, stored secrets and signing keys (published as JWKS).",
                       no_args_is_help=True)


@keys_app.command("new-root-key")
def print_new_root_key() -> None:
    """Print a fresh root key (32 random bytes, base64url) for CIVICSTACK_ROOT_KEY or a root
    key file; nothing is stored."""
    typer.echo(new_root_key())


@keys_app.command("rotate-root")
def rotate_root(new_key_file: Path = typer.Option(
        ..., help="File holding the new root key (from `civicstack keys new-root-key`): a "
                  "key on the command line would show in the process list.")) -> None:
    """Re-wrap every stored secret and signing key under a new root key, in one transaction;
    then give every instance the new key and restart them."""
    settings = get_settings()
    old = key_provider(settings)
    new = key_provider(settings.model_copy(update={"root_key": SecretStr(""),
                                                   "root_key_file": new_key_file}))
    if new.key_id == old.key_id:
        raise fail("the new root key is the one in use: nothing to do")
    with cli_transaction() as session:
        count = secrets.rewrap_all(session, old, new)
        audit.record(session, CLI_ACTOR, "keys.root.rotate", subject_type="root_key",
                     subject_id=new.key_id, purpose="key management",
                     detail={"old_root_key_id": old.key_id, "records": count})
    if not settings.root_key.get_secret_value() and settings.root_key_file is None:
        _replace_demo_root_key(settings.data_dir / DEMO_ROOT_KEY_FILE, new_key_file)
    typer.echo(f"{count} secrets and keys re-wrapped from root key {old.key_id} to "
               f"{new.key_id}. Start every instance with the new root key now; keep the old "
               "one (offline) as long as backups taken before today are kept.")


def _replace_demo_root_key(path: Path, new_key_file: Path) -> None:
    # The demo reads its root key from the data directory: it must hold the new one too.
    temporary = path.with_name(f".{path.name}.new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(new_key_file.read_text().strip() + "\n")
    temporary.replace(path)


@keys_app.command("import-files")
def import_files() -> None:
    """Store the secrets, signing keys and key pairs (PEM) an older version kept in
    DATA_DIR/secrets and DATA_DIR/keys in the database (sealed under the root key), so that
    what they sealed and signed stays readable on every instance. Safe to run again; exit 1 if
    a file differs from what the database already holds."""
    store = secret_store()
    differing = []
    for name, same in store.import_secret_files().items():
        typer.echo(f"secret {name}: {'stored' if same else 'DIFFERS from the stored one'}")
        if not same:
            differing.append(name)
    for ring, folder in keys.legacy_rings(store.data_dir).items():
        with cli_transaction() as session:  # the rings no domain declares any more too
            keys.adopt_folder(session, store.provider, ring, folder)
            stored = {k.kid for k in keys.read_keys(session, store.provider, ring)}
        kids = {k.kid for k in keys.legacy_keys(folder)}
        typer.echo(f"signing keys {ring}: {len(kids & stored)} of {len(kids)} in the database"
                   + ("; the others DIFFER from the stored ones" if kids - stored else ""))
        if kids - stored:
            differing.append(f"signing keys {ring}")
    for name, same in store.import_key_pair_files().items():
        typer.echo(f"key pair {name}: {'stored' if same else 'DIFFERS from the stored one'}")
        if not same:
            differing.append(f"key pair {name}")
    if differing:
        raise fail(f"the database holds other values for {', '.join(differing)}: data sealed "
                   "under this data directory's files will not open (docs/keys.md)")


@keys_app.command("list")
def list_keys() -> None:
    """Every stored secret's and key pair's name and every signing key, with its state (never
    the keys)."""
    store = secret_store()
    with cli_transaction() as session:
        typer.echo(f"root key: {store.provider.key_id}")
        for name in secrets.names_of(session, secrets.SECRET):
            typer.echo(f"secret\t{name}")
        for name in secrets.names_of(session, secrets.KEY_PAIR):
            typer.echo(f"key pair\t{name}")
        for ring in secrets.names_of(session, secrets.SIGNING_KEY):
            for stored in keys.read_keys(session, store.provider, ring):
                state = (f"retired {stored.retired_at:%Y-%m-%d %H:%M}" if stored.retired_at
                         else "active")
                typer.echo(f"{ring}\t{stored.kid}\t{stored.algorithm}\tv{stored.version}\t"
                           f"{stored.created_at:%Y-%m-%d %H:%M}\t{state}")
