"""The audit log is a verifiable transparency log: writers append without a shared lock, the
sealer places entries in an RFC 9162 tree and signs checkpoints, a witness outside the database
keeps them, and any rewrite of history is detected against the witnessed checkpoints."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pymerkle
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pymerkle.core import _consistency_path_layout, _inclusion_path_layout
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit import audit
from civicstack.kit.audit import AUDIT_LOG, AuditEntry
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.migrate import downgrade, upgrade
from civicstack.kit.tlog import log as tlog
from civicstack.kit.tlog import merkle, store
from civicstack.kit.tlog.note import Checkpoint, Ed25519KeyFile, NoteVerifier
from civicstack.kit.tlog.proof import InclusionProof
from civicstack.kit.tlog.witness import WitnessRefusal
from civicstack.kit.transparency import LogPublishing, seal_and_witness
from tests.support.tamper import bypass_triggers
from tests.support.transparency import KEY_NAME, publishing_in

CLERK = audit.Actor("official", "clerk-1")


@pytest.fixture
def publishing(tmp_path: Path) -> LogPublishing:
    return publishing_in(tmp_path)


def _append(factory: sessionmaker[Session], count: int) -> None:
    with transaction(factory) as session:
        for n in range(count):
            audit.record(session, CLERK, "registry.person.read", subject_type="person",
                         subject_id=f"00119001234{n}", purpose="checking a dossier",
                         detail={"n": n, "note": "Nguyễn"})


def _verify(factory: sessionmaker[Session], publishing: LogPublishing) -> tlog.LogReport:
    with transaction(factory) as session:
        return tlog.verify(session, AUDIT_LOG, publishing.witness, publishing.verifier)


def _full_audit(factory: sessionmaker[Session], publishing: LogPublishing) -> tlog.LogReport:
    with transaction(factory) as session:
        return tlog.full_audit(session, AUDIT_LOG, publishing.witness, publishing.verifier)


def _sealed(factory: sessionmaker[Session], publishing: LogPublishing, count: int) -> None:
    _append(factory, count)
    seal_and_witness(factory, publishing, AUDIT_LOG)


def test_sealed_entries_verify_and_each_check_reads_only_the_new_ones(
        session_factory: sessionmaker[Session], publishing: LogPublishing) -> None:
    _sealed(session_factory, publishing, 7)
    assert _verify(session_factory, publishing) == tlog.LogReport(7, True)
    _sealed(session_factory, publishing, 3)
    assert _verify(session_factory, publishing) == tlog.LogReport(3, True)
    assert _full_audit(session_factory, publishing) == tlog.LogReport(10, True)


def test_an_empty_log_verifies(session_factory: sessionmaker[Session],
                               publishing: LogPublishing) -> None:
    assert _verify(session_factory, publishing) == tlog.LogReport(0, True)


def test_entries_are_sealed_in_sequence_order_with_a_signed_witnessed_checkpoint(
        session_factory: sessionmaker[Session], publishing: LogPublishing) -> None:
    _sealed(session_factory, publishing, 5)
    with transaction(session_factory) as session:
        places = session.execute(select(AuditEntry.seq, AuditEntry.leaf_index)
                                 .order_by(AuditEntry.seq)).all()
        stored = store.latest_checkpoint(session, "audit")
    assert [place for _, place in places] == [0, 1, 2, 3, 4]
    witnessed = publishing.witness.latest(f"{KEY_NAME}/audit")
    assert stored is not None
    assert witnessed == Checkpoint(f"{KEY_NAME}/audit", 5, stored.root_hash)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entry SET purpose = 'x' WHERE seq = 1",
    "UPDATE audit_entry SET leaf_index = 7 WHERE seq = 1",  # placed once, by the sealer
    "DELETE FROM audit_entry WHERE seq = 1",
])
def test_the_database_refuses_to_rewrite_history(
    session_factory: sessionmaker[Session], engine: Engine, publishing: LogPublishing,
    statement: str,
) -> None:
    _sealed(session_factory, publishing, 2)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert _verify(session_factory, publishing).ok


# What a superuser could do with the triggers out of the way (each a list of statements).
EDIT = ["UPDATE audit_entry SET purpose = 'curiosity' WHERE seq = 3"]
DELETION = ["DELETE FROM audit_entry WHERE seq = 4"]
TRUNCATION = ["DELETE FROM audit_entry WHERE seq = 6"]
INSERTION = [  # a made-up entry slipped in at place 2, the later ones moved along
    "UPDATE audit_entry SET leaf_index = leaf_index + 1000 WHERE leaf_index >= 2",
    "UPDATE audit_entry SET leaf_index = leaf_index - 999 WHERE leaf_index >= 1000",
    "INSERT INTO audit_entry (seq, occurred_at, actor, action, subject_type, subject_id, "
    "purpose, detail, leaf_index) SELECT 100, occurred_at, actor, action, subject_type, "
    "'001190099999', purpose, detail, 2 FROM audit_entry WHERE seq = 1",
]
REORDERING = [
    "UPDATE audit_entry SET leaf_index = 100 WHERE seq = 2",
    "UPDATE audit_entry SET leaf_index = 1 WHERE seq = 3",
    "UPDATE audit_entry SET leaf_index = 2 WHERE seq = 2",
]


@pytest.mark.parametrize(("statements", "bad_seq", "reason"), [
    (EDIT, 3, "modified"),
    (DELETION, 5, "entry 3 of the tree is missing"),
    (TRUNCATION, None, "removed from the end"),
    (INSERTION, 100, "modified"),
    (REORDERING, 3, "modified"),
], ids=["edit", "deletion", "truncation", "insertion", "reordering"])
def test_tampering_is_detected_against_the_witnessed_checkpoint(
    session_factory: sessionmaker[Session], engine: Engine, publishing: LogPublishing,
    statements: list[str], bad_seq: int | None, reason: str,
) -> None:
    _sealed(session_factory, publishing, 6)
    for statement in statements:
        bypass_triggers(engine, statement)
    for report in (_verify(session_factory, publishing), _full_audit(session_factory,
                                                                     publishing)):
        assert not report.ok
        assert report.first_bad_seq == bad_seq
        assert reason in report.reason


def _rebuild_the_tree(engine: Engine, factory: sessionmaker[Session],
                      publishing: LogPublishing) -> None:
    """The whole tree recomputed over the edited entries, with the log's own key."""
    bypass_triggers(engine, "UPDATE audit_entry SET leaf_index = NULL")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM tlog_node WHERE log = 'audit'"))
        connection.execute(text("DELETE FROM tlog_checkpoint WHERE log = 'audit'"))
    with transaction(factory) as session:
        tlog.seal(session, AUDIT_LOG, publishing.signer)


def test_a_rewrite_with_every_later_hash_recomputed_is_detected(
    session_factory: sessionmaker[Session], engine: Engine, publishing: LogPublishing,
) -> None:
    _sealed(session_factory, publishing, 6)
    bypass_triggers(engine, "UPDATE audit_entry SET purpose = 'curiosity' WHERE seq = 2")
    _rebuild_the_tree(engine, session_factory, publishing)

    for report in (_verify(session_factory, publishing), _full_audit(session_factory,
                                                                     publishing)):
        assert (report.ok, report.first_bad_seq) == (False, None)
        assert "history rewritten" in report.reason
    with pytest.raises(WitnessRefusal, match="differs from the witnessed one"):
        seal_and_witness(session_factory, publishing, AUDIT_LOG)


def test_the_witness_accepts_no_checkpoint_signed_by_another_key(
    session_factory: sessionmaker[Session], engine: Engine, publishing: LogPublishing,
    tmp_path: Path,
) -> None:
    _sealed(session_factory, publishing, 3)
    impostor = Ed25519KeyFile(tmp_path / "impostor.key", KEY_NAME)
    _append(session_factory, 2)
    with transaction(session_factory) as session:
        tlog.seal(session, AUDIT_LOG, impostor)
    with pytest.raises(WitnessRefusal, match="not signed by"):
        seal_and_witness(session_factory, publishing, AUDIT_LOG)


def test_an_edit_of_an_entry_verified_before_is_found_by_the_full_audit(
    session_factory: sessionmaker[Session], engine: Engine, publishing: LogPublishing,
) -> None:
    """The periodic check reads only new entries (O(new)); the offline full audit reads all."""
    _sealed(session_factory, publishing, 4)
    assert _verify(session_factory, publishing).ok
    bypass_triggers(engine, "UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 2")
    report = _full_audit(session_factory, publishing)
    assert (report.ok, report.first_bad_seq) == (False, 2)
    with transaction(session_factory) as session, pytest.raises(Exception, match="not "
                                                                "included"):
        tlog.prove(session, AUDIT_LOG, 2, publishing.witness, publishing.verifier)


def test_entries_not_yet_sealed_are_pending_and_cannot_be_proven(
    session_factory: sessionmaker[Session], publishing: LogPublishing,
) -> None:
    _sealed(session_factory, publishing, 2)
    _append(session_factory, 1)
    with transaction(session_factory) as session, pytest.raises(tlog.NotSealed):
        tlog.prove(session, AUDIT_LOG, 3, publishing.witness, publishing.verifier)
    assert _verify(session_factory, publishing) == tlog.LogReport(2, True)


# --- independent checks: pymerkle's RFC 6962 hashing, Ed25519 over the note format ----------

def _independent_tree(factory: sessionmaker[Session]) -> pymerkle.InmemoryTree:
    tree = pymerkle.InmemoryTree(algorithm="sha256")  # RFC 6962: 0x00 / 0x01 prefixes
    with transaction(factory) as session:
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.leaf_index)):
            tree.append_entry(audit.canonical_bytes(entry))
    return tree


def _independently_opened(note: str, verifier_key: str) -> str:
    """The note's text if the Ed25519 signature line verifies, parsed here from the spec."""
    name, key_hash, key = verifier_key.split("+", 2)
    raw = base64.b64decode(key)
    assert raw[0] == 1
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == key_hash
    body, signature_line = note.rsplit("\n\n", 1)
    signer, signature = signature_line.removeprefix("\u2014 ").split(" ")
    signed = base64.b64decode(signature)
    assert (signer, signed[:4].hex()) == (name, key_hash)
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(signed[4:], (body + "\n").encode())
    return body + "\n"


def test_inclusion_proofs_verify_with_an_independent_rfc6962_implementation(
    session_factory: sessionmaker[Session], publishing: LogPublishing,
) -> None:
    for batch in (5, 6, 2):  # three checkpoints: proofs against the newest
        _sealed(session_factory, publishing, batch)
    tree = _independent_tree(session_factory)
    with transaction(session_factory) as session:
        proofs = [tlog.prove(session, AUDIT_LOG, seq, publishing.witness, publishing.verifier)
                  .text() for seq in range(1, 14)]
    for proof_text in proofs:
        proof = InclusionProof.parse(proof_text)
        body = _independently_opened(proof.checkpoint_note, str(publishing.verifier))
        origin, size, root = body.splitlines()
        assert (origin, int(size)) == (f"{KEY_NAME}/audit", 13)
        assert base64.b64decode(root) == tree.get_state()
        leaf = hashlib.sha256(b"\x00" + proof.entry).digest()
        rule, _ = _inclusion_path_layout(proof.index + 1, 13)
        pymerkle.verify_inclusion(leaf, tree.get_state(), pymerkle.InclusionProof(
            "sha256", True, 13, proof.index + 1, rule, [leaf, *proof.path]),
            index=proof.index + 1, size=13)


def test_consistency_proofs_agree_with_an_independent_rfc6962_implementation(
    session_factory: sessionmaker[Session], publishing: LogPublishing,
) -> None:
    for batch in (1, 2, 4, 5, 3):
        _sealed(session_factory, publishing, batch)
    tree = _independent_tree(session_factory)
    with transaction(session_factory) as session:
        read = store.node_reader(session, "audit")
        for old, new in ((1, 3), (3, 7), (7, 12), (12, 15), (3, 15), (1, 15)):
            # Our RFC 9162 proof, checked against roots pymerkle computed from the entries...
            assert merkle.verify_consistency(old, new, tree.get_state(old), tree.get_state(new),
                                             merkle.consistency_proof(read, old, new))
            # ...and the stored tree's hashes, in pymerkle's own proof layout, checked by it.
            rule, subset, ranges = _consistency_path_layout(old, new)
            path = [merkle.range_hash(read, leaf_range) for leaf_range in ranges]
            pymerkle.verify_consistency(tree.get_state(old), tree.get_state(new),
                                        pymerkle.ConsistencyProof("sha256", True, new, old, rule,
                                                                  subset, path))


# --- independent checks: the Go reference implementation (golang.org/x/mod/sumdb) --------------

GO_PATH = Path("/usr/share/gocode")  # where Debian's golang-golang-x-mod-dev puts its sources
VERIFIER_SOURCE = Path(__file__).parents[1] / "support" / "tlogverify" / "main.go"


@pytest.fixture(scope="session")
def go_verifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/support/tlogverify built offline against Debian's golang.org/x/mod sources."""
    if shutil.which("go") is None or not (GO_PATH / "src/golang.org/x/mod/sumdb").is_dir():
        pytest.skip("needs Debian's golang-go and golang-golang-x-mod-dev (make system-deps)")
    folder = tmp_path_factory.mktemp("go")
    subprocess.run(["go", "build", "-o", str(folder / "tlogverify"), str(VERIFIER_SOURCE)],
                   check=True, timeout=300, env={
                       **os.environ, "GOPATH": str(GO_PATH), "GO111MODULE": "off",
                       "GOCACHE": str(folder / "cache"), "GOFLAGS": ""})
    return folder / "tlogverify"


def _go_checks(verifier: Path, key: str,
               *arguments: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(verifier), key, *map(str, arguments)], capture_output=True,
                          text=True, timeout=60, check=False)


def test_proofs_and_checkpoints_verify_with_the_go_reference_implementation(
    session_factory: sessionmaker[Session], publishing: LogPublishing, go_verifier: Path,
    tmp_path: Path,
) -> None:
    for batch in (1, 2, 4, 5, 3):  # checkpoints of 1, 3, 7, 12 and 15 entries
        _sealed(session_factory, publishing, batch)
    key = str(publishing.verifier)
    with transaction(session_factory) as session:
        for seq in range(1, 16):
            proof = tmp_path / f"{seq}.tlog-proof"
            proof.write_text(tlog.prove(session, AUDIT_LOG, seq, publishing.witness,
                                        publishing.verifier).text())
            checked = _go_checks(go_verifier, key, "inclusion", proof)
            assert checked.returncode == 0, checked.stderr
            assert checked.stdout.endswith("in a tree of 15\n")
        read = store.node_reader(session, "audit")
        for old, new in ((1, 3), (3, 7), (7, 12), (12, 15), (3, 15), (1, 15)):
            notes = [tmp_path / f"{size}.checkpoint" for size in (old, new)]
            for size, note in zip((old, new), notes, strict=True):
                note.write_text(store.checkpoint_at(session, "audit", size).note)
            proof = tmp_path / f"{old}-{new}.consistency"
            proof.write_text("".join(base64.b64encode(step).decode() + "\n"
                                     for step in merkle.consistency_proof(read, old, new)))
            checked = _go_checks(go_verifier, key, "consistency", *notes, proof)
            assert checked.returncode == 0, checked.stderr
    # The Go code is no rubber stamp: a proof for a changed entry, and a consistency proof
    # between other sizes, are refused.
    header, _, rest = (tmp_path / "2.tlog-proof").read_text().split("\n", 2)
    forged = tmp_path / "forged.tlog-proof"
    forged.write_text(f"{header}\nextra {base64.b64encode(b'[2]').decode()}\n{rest}")
    assert "inclusion" in _go_checks(go_verifier, key, "inclusion", forged).stderr
    mismatched = _go_checks(go_verifier, key, "consistency", tmp_path / "1.checkpoint",
                            tmp_path / "15.checkpoint", tmp_path / "3-15.consistency")
    assert (mismatched.returncode, "consistency" in mismatched.stderr) == (1, True)


# --- concurrency ------------------------------------------------------------------------------

def test_no_false_alarm_while_many_writers_append_during_verification(
    session_factory: sessionmaker[Session], engine: Engine, publishing: LogPublishing,
) -> None:
    """Writers (16 on PostgreSQL) append while the sealer seals and the log is verified again
    and again: only witnessed entries are read, so every check is intact."""
    writers = 16 if engine.dialect.name == "postgresql" else 3
    # A connection for every writer, the sealer (and its advisory lock) and the verifier: the
    # default pool would make writers wait for connections, not for the log.
    wide = make_engine(engine.url.render_as_string(hide_password=False), pool_size=writers + 6)
    session_factory = make_session_factory(wide)
    stop = threading.Event()
    failures: list[BaseException] = []

    def keep_going(work: object) -> None:
        try:
            while not stop.is_set():
                work()  # type: ignore[operator]
        except BaseException as exc:  # reported by the test, not lost in a thread
            failures.append(exc)

    def write() -> None:
        with transaction(session_factory) as session:
            session.execute(text("SELECT 1"))
            audit.record(session, audit.SYSTEM, "test.concurrent", subject_type="test",
                         subject_id="writer", purpose="concurrency check")

    threads = [threading.Thread(target=keep_going, args=(write,)) for _ in range(writers)]
    threads.append(threading.Thread(target=keep_going, args=(
        lambda: seal_and_witness(session_factory, publishing, AUDIT_LOG),)))
    for thread in threads:
        thread.start()
    reports = []
    try:
        # At least 6 s, and until some witnessed entries were checked (a loaded machine may
        # take longer for the first seal), within a minute.
        started = time.monotonic()
        while time.monotonic() - started < 60 and (
                time.monotonic() - started < 6
                or not any(r.entries_checked for r in reports[::2])):
            reports.append(_verify(session_factory, publishing))
            reports.append(_full_audit(session_factory, publishing))
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert [report for report in reports if not report.ok] == []
    seal_and_witness(session_factory, publishing, AUDIT_LOG)
    report = _full_audit(session_factory, publishing)
    with transaction(session_factory) as session:
        written = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    assert (report.ok, report.entries_checked) == (True, written)
    assert sum(report.entries_checked for report in reports[::2]) > 0
    wide.dispose()


def test_entries_for_subject_lists_newest_first(session_factory: sessionmaker[Session]) -> None:
    _append(session_factory, 3)
    with transaction(session_factory) as session:
        entries = audit.entries_for_subject(session, "person", "001190012341")
    assert [e.detail["n"] for e in entries] == [1]


def test_a_verifier_key_reads_back_as_itself(publishing: LogPublishing) -> None:
    text_key = str(publishing.verifier)
    assert NoteVerifier.parse(text_key) == publishing.verifier
    assert text_key.startswith(f"{KEY_NAME}+")


def test_the_migration_makes_the_old_chains_head_the_first_sealed_entry(
    database_url: str, session_factory: sessionmaker[Session], publishing: LogPublishing,
) -> None:
    _append(session_factory, 3)
    downgrade(database_url, "0034")  # back to the hash chain, its links computed
    with transaction(session_factory) as session:
        head = session.execute(text("SELECT last_seq, last_hash FROM audit_chain_head")).one()
    upgrade(database_url)
    seal_and_witness(session_factory, publishing, AUDIT_LOG)

    with transaction(session_factory) as session:
        first = session.scalars(select(AuditEntry).where(AuditEntry.leaf_index == 0)).one()
    assert (first.seq, first.action) == (0, "audit.log.genesis")
    assert first.detail == {"chain_head": head.last_hash, "chain_length": 3}
    assert _full_audit(session_factory, publishing) == tlog.LogReport(4, True)
