"""Verifiable append-only logs (the design of Certificate Transparency): RFC 9162 Merkle trees,
signed checkpoints (C2SP tlog-checkpoint), witnesses outside the database, and proofs
(C2SP tlog-proof@v1) that anyone can check with the log's public key alone."""
