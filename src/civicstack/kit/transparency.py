"""The logs' checkpoint key and witnesses as configured: one key for every instance (a key file
outside the database, made on first run), one witness folder they all write to, and a second
database as another witness where one is configured."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from civicstack.config import Settings, normalise_database_url
from civicstack.kit.appservices import AppServices, ServiceKey
from civicstack.kit.db import make_engine, transaction
from civicstack.kit.tlog import log as tlog
from civicstack.kit.tlog.log import EntryLog
from civicstack.kit.tlog.note import Checkpoint, Ed25519KeyFile, NoteSigner, NoteVerifier
from civicstack.kit.tlog.witness import DirectoryWitness, Witness
from civicstack.kit.tlog.witness_db import DatabaseWitness


@dataclass(frozen=True)
class LogPublishing:
    signer: NoteSigner
    witness: Witness  # the one verification and proofs read
    more_witnesses: tuple[Witness, ...] = ()  # handed every checkpoint as well

    @property
    def witnesses(self) -> tuple[Witness, ...]:
        return (self.witness, *self.more_witnesses)

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.of(self.signer)


def publishing_from(settings: Settings) -> LogPublishing:
    signer = Ed25519KeyFile(settings.resolved_log_key_file, settings.log_key_name)
    verifier = NoteVerifier.of(signer)
    second = settings.log_witness_database_url
    return LogPublishing(signer, DirectoryWitness(settings.resolved_log_witness_dir, verifier),
                         (DatabaseWitness(make_engine(normalise_database_url(second)),
                                          verifier),) if second else ())


LOG_PUBLISHING = ServiceKey[LogPublishing]("log_publishing")


def seal_and_witness(session_factory: sessionmaker[Session], publishing: LogPublishing,
                     log: EntryLog) -> Checkpoint | None:
    """The sealer's round: new entries into a signed checkpoint (committed first), then the
    newest checkpoint to every witness; the checkpoint the first one witnessed, if a new one.
    A witness that refuses (or cannot be reached) stops the round: the next one retries."""
    with transaction(session_factory) as session:
        tlog.seal(session, log, publishing.signer)
    witnessed = []
    for witness in publishing.witnesses:
        with transaction(session_factory) as session:
            witnessed.append(tlog.witness(session, log, witness, publishing.verifier))
    return witnessed[0]


def sealer_job(log: EntryLog) -> Callable[[AppServices], object]:
    """The worker's job sealing `log` (installed by the log's owner)."""
    def run(services: AppServices) -> object:
        witnessed = seal_and_witness(services.session_factory, services[LOG_PUBLISHING], log)
        return witnessed and f"{witnessed.origin} {witnessed.size}"
    return run
