"""Secrets generated on first run into the data directory, never committed or defaulted."""

from __future__ import annotations

import secrets
from pathlib import Path

from civicstack.kit.private_files import private_folder, publish_once

# 32 URL-safe characters carry 192 bits; a generated secret has 43 (32 random bytes).
MIN_SECRET_CHARACTERS = 32


class UnusableSecret(RuntimeError):
    """A secret file too short to protect anything: the service refuses to start on it."""


def load_or_create_secret(data_dir: Path, name: str, nbytes: int = 32) -> str:
    """Read `data_dir/secrets/name`, creating it (mode 0600) with fresh randomness if absent.
    Every instance starting at once reads the same secret: the file appears whole or not at
    all (kit/private_files.py)."""
    path = private_folder(data_dir / "secrets") / name
    stored = path.read_bytes() if path.exists() else \
        publish_once(path, secrets.token_urlsafe(nbytes).encode())
    return _usable(path, stored.decode().strip())


def _usable(path: Path, value: str) -> str:
    # An empty key would sign cookies anyone can forge and seal data anyone can open.
    if len(value) < MIN_SECRET_CHARACTERS:
        raise UnusableSecret(
            f"the secret in {path} has {len(value)} characters, fewer than "
            f"{MIN_SECRET_CHARACTERS}: refusing to start. Restore it from a backup, or delete "
            "it to have a new one made (what the old one sealed can then no longer be opened).")
    return value
