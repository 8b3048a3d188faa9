"""Signed notes (C2SP signed-note, the golang.org/x/mod/sumdb/note format) with Ed25519 keys,
and checkpoints (C2SP tlog-checkpoint): a log's origin, tree size and root hash, signed.

The log's key is never in the database: it is a key file (made 0600 on first run, in the
standard `PRIVATE+KEY+name+hash+key` text) or an HSM behind the same small `NoteSigner`
interface. Whoever holds only the verifier key (`name+hash+key`, published) can check every
checkpoint and proof.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from civicstack.kit.private_files import private_folder, publish_once

ED25519 = b"\x01"  # the signature-type byte of an Ed25519 note key
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space begin each signature line
MAX_NAME = 200


class BadNote(ValueError):
    """A note or checkpoint that does not parse, or whose signature does not verify."""


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key hash: SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key), first 4 bytes."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= MAX_NAME and "+" not in name and not any(
        character.isspace() for character in name)


class NoteSigner(Protocol):
    """What signs checkpoints, shaped like a PKCS#11 token: it holds the private key and
    answers signatures; the key's name and public half are public."""

    @property
    def name(self) -> str: ...

    @property
    def public_key(self) -> bytes: ...  # 32 raw Ed25519 bytes

    def sign(self, message: bytes) -> bytes: ...


class Ed25519KeyFile:
    """A note key in a file outside the database, made on first run by whichever process
    gets there first (every instance then signs with the one key)."""

    def __init__(self, path: Path, name: str) -> None:
        if not _valid_name(name):
            raise ValueError(f"not a note key name: {name!r}")
        private_folder(path.parent)
        fresh = Ed25519PrivateKey.generate().private_bytes_raw()
        text = publish_once(path, _signer_key_text(name, fresh).encode()).decode()
        stored_name, seed = _parse_signer_key(text)
        if stored_name != name:
            raise ValueError(f"{path} holds the key of {stored_name!r}, not {name!r}")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def _signer_key_text(name: str, seed: bytes) -> str:
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)
    return (f"PRIVATE+KEY+{name}+{key_id(name, public).hex()}+"
            f"{base64.b64encode(ED25519 + seed).decode()}\n")


def _parse_signer_key(text: str) -> tuple[str, bytes]:
    parts = text.strip().split("+", 4)  # base64 may hold "+", a name never does
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise ValueError("not a note signer key")
    key = decode_base64(parts[4])
    if len(key) != 33 or key[:1] != ED25519:
        raise ValueError("not an Ed25519 note signer key")
    return parts[2], key[1:]


def decode_base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadNote("invalid base64") from exc


@dataclass(frozen=True)
class NoteVerifier:
    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def __str__(self) -> str:
        """The verifier key text: name+hash+base64(0x01 ‖ public key)."""
        return (f"{self.name}+{self.key_id.hex()}+"
                f"{base64.b64encode(ED25519 + self.public_key).decode()}")

    @classmethod
    def of(cls, signer: NoteSigner) -> NoteVerifier:
        return cls(signer.name, signer.public_key)

    @classmethod
    def parse(cls, text: str) -> NoteVerifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3 or not _valid_name(parts[0]) or len(parts[1]) != 8:
            raise BadNote("a verifier key reads name+hash+key")
        key = decode_base64(parts[2])
        if len(key) != 33 or key[:1] != ED25519:
            raise BadNote("not an Ed25519 verifier key")
        verifier = cls(parts[0], key[1:])
        if verifier.key_id.hex() != parts[1].lower():
            raise BadNote("the verifier key's hash does not match its name and key")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def sign_note(text: str, signer: NoteSigner) -> str:
    """`text` (ending in a newline) and one signature line."""
    if not text.endswith("\n"):
        raise ValueError("a note's text ends with a newline")
    signature = key_id(signer.name, signer.public_key) + signer.sign(text.encode())
    return f"{text}\n{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, verifier: NoteVerifier) -> str:
    """The note's text, if `verifier`'s key signed it; BadNote otherwise. Signatures by other
    keys (witnesses' cosignatures) are allowed and ignored."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise BadNote("a note is its text, an empty line and signature lines")
    text += "\n"
    for line in signatures.removesuffix("\n").split("\n"):
        name, signature = _signature_line(line)
        if name == verifier.name and signature[:4] == verifier.key_id:
            if verifier.verify(text.encode(), signature[4:]):
                return text
            raise BadNote("the log's signature does not verify")
    raise BadNote(f"the note is not signed by {verifier.name}")


def _signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise BadNote("a signature line starts with an em dash")
    name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
    signature = decode_base64(encoded)
    if len(signature) < 5:
        raise BadNote("a signature is a key hash and at least one byte")
    return name, signature


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin line, its size and its root hash (C2SP tlog-checkpoint)."""

    origin: str
    size: int
    root_hash: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root_hash).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or not lines[0] or lines[-1] != "":
            raise BadNote("a checkpoint is an origin, a size and a root hash, one a line")
        size = lines[1]
        if not size.isdigit() or (size.startswith("0") and size != "0"):
            raise BadNote("a checkpoint's size is a decimal number")
        root = decode_base64(lines[2])
        if len(root) != 32:
            raise BadNote("a checkpoint's root hash is 32 bytes")
        return cls(lines[0], int(size), root)


def open_checkpoint(note: str, verifier: NoteVerifier, origin: str) -> Checkpoint:
    """The checkpoint a signed note carries, if signed by `verifier` for `origin`."""
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if checkpoint.origin != origin:
        raise BadNote(f"the checkpoint is of {checkpoint.origin}, not {origin}")
    return checkpoint
