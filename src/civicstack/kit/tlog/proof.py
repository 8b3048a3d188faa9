"""Inclusion proofs as C2SP tlog-proof@v1 text: the entry's bytes (base64, on the `extra`
line), its index, the RFC 6962 audit path and the signed checkpoint it leads to. Anyone with
the log's verifier key can check one offline: the leaf hash is SHA-256(0x00 ‖ the bytes)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from civicstack.kit.tlog import merkle
from civicstack.kit.tlog.note import BadNote, Checkpoint, NoteVerifier, decode_base64, open_note

HEADER = "c2sp.org/tlog-proof@v1"


@dataclass(frozen=True)
class InclusionProof:
    entry: bytes  # the entry's canonical bytes
    index: int
    path: list[bytes]
    checkpoint_note: str  # the signed checkpoint, verbatim

    def text(self) -> str:
        lines = [HEADER, f"extra {base64.b64encode(self.entry).decode()}", f"index {self.index}",
                 *(base64.b64encode(step).decode() for step in self.path)]
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str) -> InclusionProof:
        head, separator, note = text.partition("\n\n")
        lines = head.split("\n")
        if not separator or lines[0] != HEADER:
            raise BadNote(f"not a {HEADER} proof")
        if len(lines) < 3 or not lines[1].startswith("extra ") or not lines[2].startswith(
                "index "):
            raise BadNote("this log's proofs carry the entry on an extra line, then its index")
        index = lines[2].removeprefix("index ")
        if not index.isdigit() or (index.startswith("0") and index != "0"):
            raise BadNote("the index is a decimal number")
        path = [decode_base64(line) for line in lines[3:]]
        if any(len(step) != 32 for step in path):
            raise BadNote("each proof line is a 32-byte hash")
        return cls(decode_base64(lines[1].removeprefix("extra ")), int(index), path, note)

    def verify(self, verifier: NoteVerifier, origin: str | None = None) -> Checkpoint:
        """The checkpoint that includes the entry, if the log's key signed it and the path
        leads from the entry to its root; BadNote otherwise."""
        checkpoint = Checkpoint.parse(open_note(self.checkpoint_note, verifier))
        if origin is not None and checkpoint.origin != origin:
            raise BadNote(f"the proof is of {checkpoint.origin}, not {origin}")
        if not merkle.verify_inclusion(merkle.leaf_hash(self.entry), self.index,
                                       checkpoint.size, self.path, checkpoint.root_hash):
            raise BadNote(f"entry {self.index} is not included in the checkpoint of "
                          f"{checkpoint.size} entries")
        return checkpoint

