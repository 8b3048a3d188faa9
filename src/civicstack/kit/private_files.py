"""Files in the data directory that only the service's own user may read: its folders 0700,
its files 0600, and files published whole so that no reader ever sees one half written.

The data directory holds the SQLite database (with session tokens), the mailbox's one-time
codes, the treasury's ledger, signing keys and the secrets that seal and pepper: another
account on the machine must not read any of them. Modes are set where each file is made, and an
older, more open one is tightened on the way, rather than by a process-wide umask that would
reach every file the process writes elsewhere too.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """`path` made if missing (with any missing parents, each 0700) and made 0700."""
    missing = [folder for folder in path.parents if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)  # another process may make it first
    path.mkdir(mode=FOLDER_MODE, exist_ok=True)  # a file in its place raises FileExistsError
    path.chmod(FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` made empty if missing, and made 0600 either way; open it afterwards as usual
    (opening an existing file keeps its mode)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    return path


def publish_once(path: Path, content: bytes) -> bytes:
    """Give `path` this content unless another process got there first, and return what
    `path` holds. The content is written to a temporary file beside it (0600), synced, then
    linked to its name, which fails when the name is taken: `path` never exists half written,
    so when many processes start at once they all read the one winner's whole content."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return path.read_bytes()
    finally:
        os.unlink(temporary)
    return content
