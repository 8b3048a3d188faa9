"""Witnesses: append-only places outside the primary database that keep a log's checkpoints,
each accepted only if it is signed by the log's key and proven consistent with the one the
witness holds. A database owner who rewrites history cannot make the witnessed checkpoints
agree with the rewritten entries, nor get a witness to accept a forked tree.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from civicstack.kit.private_files import private_folder, publish_once
from civicstack.kit.tlog import merkle
from civicstack.kit.tlog.note import BadNote, Checkpoint, NoteVerifier, open_checkpoint

LATEST = "latest"
VERIFIED = "verified"


class WitnessRefusal(BadNote):
    """A checkpoint a witness will not keep: unsigned, inconsistent, a fork or a rollback."""


class Witness(Protocol):
    def latest(self, origin: str) -> Checkpoint | None:
        """The newest checkpoint this witness accepted for `origin`."""

    def note(self, origin: str, size: int) -> str | None:
        """The signed note of the accepted checkpoint of `size` entries, if any."""

    def add(self, origin: str, note: str, proof: Sequence[bytes]) -> Checkpoint:
        """Accept a newer checkpoint with its consistency proof from `latest`."""

    def progress(self, origin: str) -> VerifiedPrefix:
        """How far the log's entries have been checked against this witness's checkpoints."""

    def record_progress(self, origin: str, prefix: VerifiedPrefix) -> None: ...


def _slug(origin: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", origin)


def _replace_atomically(path: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class DirectoryWitness:
    """Checkpoints as files in a folder (a mounted object store, another host's share): one
    file per tree size, written once and never replaced, and a pointer to the newest."""

    def __init__(self, folder: Path, verifier: NoteVerifier) -> None:
        self.folder = folder
        self.verifier = verifier

    def _log_folder(self, origin: str) -> Path:
        return private_folder(self.folder / _slug(origin))

    def latest(self, origin: str) -> Checkpoint | None:
        pointer = self._log_folder(origin) / LATEST
        if not pointer.exists():
            return None
        note = self.note(origin, int(pointer.read_text()))
        if note is None:
            raise WitnessRefusal(f"the witness's newest checkpoint of {origin} is missing")
        return open_checkpoint(note, self.verifier, origin)

    def note(self, origin: str, size: int) -> str | None:
        path = self._log_folder(origin) / f"{size}.checkpoint"
        return path.read_text() if path.exists() else None

    def add(self, origin: str, note: str, proof: Sequence[bytes]) -> Checkpoint:
        try:
            checkpoint = open_checkpoint(note, self.verifier, origin)
        except BadNote as exc:
            raise WitnessRefusal(str(exc)) from exc
        previous = self.latest(origin)
        old_size, old_root = ((previous.size, previous.root_hash) if previous
                              else (0, merkle.EMPTY_ROOT))
        if not merkle.verify_consistency(old_size, checkpoint.size, old_root,
                                         checkpoint.root_hash, proof):
            raise WitnessRefusal(f"the checkpoint of {checkpoint.size} entries is not "
                                 f"consistent with the witnessed one of {old_size}")
        folder = self._log_folder(origin)
        kept = publish_once(folder / f"{checkpoint.size}.checkpoint", note.encode()).decode()
        if open_checkpoint(kept, self.verifier, origin) != checkpoint:
            raise WitnessRefusal(f"two different trees of {checkpoint.size} entries (a fork)")
        _replace_atomically(folder / LATEST, str(checkpoint.size).encode())
        return checkpoint

    def progress(self, origin: str) -> VerifiedPrefix:
        path = self._log_folder(origin) / VERIFIED
        return VerifiedPrefix.parse(path.read_text()) if path.exists() else VerifiedPrefix()

    def record_progress(self, origin: str, prefix: VerifiedPrefix) -> None:
        _replace_atomically(self._log_folder(origin) / VERIFIED, prefix.text().encode())


@dataclass(frozen=True)
class VerifiedPrefix:
    """The first `size` leaves were recomputed from the entries and matched a witnessed root;
    their right edge (`peaks`) lets the next check continue from there (O(new entries))."""

    size: int = 0
    peaks: list[bytes] = field(default_factory=list)

    def text(self) -> str:
        return json.dumps({"size": self.size,
                           "peaks": [base64.b64encode(peak).decode() for peak in self.peaks]})

    @classmethod
    def parse(cls, text: str) -> VerifiedPrefix:
        data = json.loads(text)
        return cls(int(data["size"]), [base64.b64decode(peak) for peak in data["peaks"]])
