"""The logs' checkpoint key and witness as configured: one key for every instance (a key file
outside the database, made on first run), one witness folder they all write to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from civicstack.config import Settings
from civicstack.kit.appservices import AppServices, ServiceKey
from civicstack.kit.db import transaction
from civicstack.kit.tlog import log as tlog
from civicstack.kit.tlog.log import EntryLog
from civicstack.kit.tlog.note import Checkpoint, Ed25519KeyFile, NoteSigner, NoteVerifier
from civicstack.kit.tlog.witness import DirectoryWitness, Witness


@dataclass(frozen=True)
class LogPublishing:
    signer: NoteSigner
    witness: Witness

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.of(self.signer)


def publishing_from(settings: Settings) -> LogPublishing:
    signer = Ed25519KeyFile(settings.resolved_log_key_file, settings.log_key_name)
    return LogPublishing(signer, DirectoryWitness(settings.resolved_log_witness_dir,
                                                  NoteVerifier.of(signer)))


LOG_PUBLISHING = ServiceKey[LogPublishing]("log_publishing")


def seal_and_witness(session_factory: sessionmaker[Session], publishing: LogPublishing,
                     log: EntryLog) -> Checkpoint | None:
    """The sealer's round: new entries into a signed checkpoint (committed first), then the
    newest checkpoint to the witness; the witnessed checkpoint, if a new one."""
    with transaction(session_factory) as session:
        tlog.seal(session, log, publishing.signer)
    with transaction(session_factory) as session:
        return tlog.witness(session, log, publishing.witness, publishing.verifier)


def sealer_job(log: EntryLog) -> Callable[[AppServices], object]:
    """The worker's job sealing `log` (installed by the log's owner)."""
    def run(services: AppServices) -> object:
        witnessed = seal_and_witness(services.session_factory, services[LOG_PUBLISHING], log)
        return witnessed and f"{witnessed.origin} {witnessed.size}"
    return run
