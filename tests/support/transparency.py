"""A log key and a witness for tests: real files in the test's own folder."""

from __future__ import annotations

from pathlib import Path

from civicstack.kit.tlog.note import Ed25519KeyFile, NoteVerifier
from civicstack.kit.tlog.witness import DirectoryWitness
from civicstack.kit.transparency import LogPublishing

KEY_NAME = "civicstack.test/log"


def publishing_in(folder: Path, key_name: str = KEY_NAME) -> LogPublishing:
    signer = Ed25519KeyFile(folder / "log.key", key_name)
    return LogPublishing(signer, DirectoryWitness(folder / "witness", NoteVerifier.of(signer)))
