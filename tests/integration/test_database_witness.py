"""A second witness in another database: the sealer hands it every checkpoint, it accepts one
only with a consistency proof from the newest it holds, its tables refuse to change, and the
log verifies against it: a rewrite of the primary database is caught there too."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from civicstack.config import Settings
from civicstack.kit import audit
from civicstack.kit.audit import AUDIT_LOG
from civicstack.kit.db import transaction
from civicstack.kit.tlog import log as tlog
from civicstack.kit.tlog import merkle
from civicstack.kit.tlog.note import Checkpoint, sign_note
from civicstack.kit.tlog.witness import WitnessRefusal
from civicstack.kit.tlog.witness_db import DatabaseWitness
from civicstack.kit.transparency import LogPublishing, publishing_from, seal_and_witness
from tests.support.tamper import bypass_triggers
from tests.support.transparency import publishing_in

CLERK = audit.Actor("official", "clerk-1")


@pytest.fixture
def second_database(other_session_factory: sessionmaker[Session]) -> Engine:
    bind = other_session_factory.kw["bind"]
    assert isinstance(bind, Engine)
    return bind


@pytest.fixture
def publishing(tmp_path: Path, second_database: Engine) -> LogPublishing:
    primary = publishing_in(tmp_path)
    return LogPublishing(primary.signer, primary.witness,
                         (DatabaseWitness(second_database, primary.verifier),))


def _sealed(factory: sessionmaker[Session], publishing: LogPublishing, count: int) -> None:
    with transaction(factory) as session:
        for n in range(count):
            audit.record(session, CLERK, "registry.person.read", subject_type="person",
                         subject_id=f"00119001234{n}", purpose="checking a dossier")
    seal_and_witness(factory, publishing, AUDIT_LOG)


def _second(publishing: LogPublishing) -> DatabaseWitness:
    witness = publishing.more_witnesses[0]
    assert isinstance(witness, DatabaseWitness)
    return witness


def test_the_sealer_hands_every_checkpoint_to_the_second_database_too(
        session_factory: sessionmaker[Session], publishing: LogPublishing) -> None:
    origin = AUDIT_LOG.origin(publishing.verifier)
    for count in (3, 4):
        _sealed(session_factory, publishing, count)
    second = _second(publishing)
    assert second.latest(origin) == publishing.witness.latest(origin)
    assert [second.note(origin, size) for size in (3, 7)] == \
        [publishing.witness.note(origin, size) for size in (3, 7)]
    with transaction(session_factory) as session:
        assert tlog.verify(session, AUDIT_LOG, second, publishing.verifier) == \
            tlog.LogReport(7, True)


def test_the_second_database_refuses_a_checkpoint_without_a_consistency_proof(
        session_factory: sessionmaker[Session], publishing: LogPublishing,
        tmp_path: Path) -> None:
    _sealed(session_factory, publishing, 3)
    origin = AUDIT_LOG.origin(publishing.verifier)
    # Even signed with the log's own key, a tree that does not extend the witnessed one fails.
    other_tree = Checkpoint(origin, 5, merkle.leaf_hash(b"another history"))
    with pytest.raises(WitnessRefusal, match="not consistent with the witnessed one of 3"):
        _second(publishing).add(origin, sign_note(other_tree.text(), publishing.signer), [])
    impostor = publishing_in(tmp_path / "impostor", "someone.else/log").signer
    with pytest.raises(WitnessRefusal, match="not signed by"):
        _second(publishing).add(origin, sign_note(other_tree.text(), impostor), [])
    assert _second(publishing).latest(origin).size == 3


@pytest.mark.parametrize("statement", [
    "UPDATE witnessed_checkpoint SET note = 'forged'",
    "DELETE FROM witnessed_checkpoint",
    "DELETE FROM witnessed_progress",
])
def test_the_second_databases_tables_are_append_only(
        session_factory: sessionmaker[Session], publishing: LogPublishing,
        second_database: Engine, statement: str) -> None:
    _sealed(session_factory, publishing, 2)
    with transaction(session_factory) as session:
        assert tlog.verify(session, AUDIT_LOG, _second(publishing), publishing.verifier).ok
    with pytest.raises(DBAPIError, match="append-only"), second_database.begin() as connection:
        connection.execute(text(statement))


def test_a_rewritten_primary_database_is_caught_against_the_second_database(
        session_factory: sessionmaker[Session], engine: Engine,
        publishing: LogPublishing) -> None:
    _sealed(session_factory, publishing, 4)
    bypass_triggers(engine, "UPDATE audit_entry SET purpose = 'curiosity' WHERE seq = 2")
    with transaction(session_factory) as session:
        report = tlog.verify(session, AUDIT_LOG, _second(publishing), publishing.verifier)
    assert (report.ok, report.first_bad_seq) == (False, 2)


def test_a_configured_witness_database_is_a_second_witness(
        tmp_path: Path, database_url: str) -> None:
    configured = publishing_from(Settings(data_dir=tmp_path,
                                          log_witness_database_url=database_url))
    assert [type(witness).__name__ for witness in configured.witnesses] == \
        ["DirectoryWitness", "DatabaseWitness"]
    assert publishing_from(Settings(data_dir=tmp_path)).more_witnesses == ()
