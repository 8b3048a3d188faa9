"""Secrets generated on first run into the data directory, never committed or defaulted."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create_secret(data_dir: Path, name: str, nbytes: int = 32) -> str:
    """Read `data_dir/secrets/name`, creating it (mode 0600) with fresh randomness if absent."""
    directory = data_dir / "secrets"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        value = secrets.token_urlsafe(nbytes)
        handle.write(value)
    return value
