"""`civicstack audit ...`: seal, verify, audit in full, prove and check proofs of the audit log
(a verifiable transparency log: kit/tlog, docs/audit-log.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from civicstack.config import get_settings
from civicstack.kit.audit import AUDIT_LOG
from civicstack.kit.cli_support import cli_transaction, fail
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.partitions import Month, months_of
from civicstack.kit.tlog import log as tlog
from civicstack.kit.tlog.archive import (
    ArchiveRefused,
    LogArchive,
    archive_month,
    archived_leaves,
    read_archives,
)
from civicstack.kit.tlog.note import BadNote, NoteVerifier
from civicstack.kit.tlog.proof import InclusionProof
from civicstack.kit.tlog.witness import DirectoryWitness
from civicstack.kit.transparency import publishing_from, seal_and_witness

audit_app = typer.Typer(help="The audit log: a Merkle tree with signed, witnessed checkpoints.",
                        no_args_is_help=True)
KEY_HELP = "The log's verifier key (name+hash+key); default: this installation's."


def _report(report: tlog.LogReport, what: str) -> None:
    if not report.ok:
        where = f" at entry {report.first_bad_seq}" if report.first_bad_seq is not None else ""
        raise fail(f"audit log BROKEN{where}: {report.reason} ({report.entries_checked} "
                   "entries matched before it)")
    typer.echo(f"audit log intact: {report.entries_checked} {what}")


def _verifier(key: str | None) -> NoteVerifier:
    return NoteVerifier.parse(key) if key else publishing_from(get_settings()).verifier


@audit_app.command("key")
def audit_key() -> None:
    """Print the log's note verifier key (also served at /.well-known/civicstack/audit-log-key)."""
    typer.echo(str(publishing_from(get_settings()).verifier))


@audit_app.command("seal")
def audit_seal() -> None:
    """Seal pending entries into a signed checkpoint and hand it to the witness (the worker
    does this every few seconds)."""
    witnessed = seal_and_witness(make_session_factory(make_engine(
        get_settings().resolved_database_url)), publishing_from(get_settings()), AUDIT_LOG)
    typer.echo(f"witnessed checkpoint: {witnessed.size} entries" if witnessed
               else "nothing new to witness")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the entries sealed since the last check against the newest witnessed checkpoint;
    exit 1 if any was changed, removed, inserted or moved."""
    publishing = publishing_from(get_settings())
    with cli_transaction() as session:
        report = tlog.verify(session, AUDIT_LOG, publishing.witness, publishing.verifier)
    _report(report, "newly sealed entries verified")


@audit_app.command("full-audit")
def audit_full(
    database: str = typer.Option("", help="Database URL (a backup, say); default: the "
                                          "configured one."),
    witness_dir: Path | None = typer.Option(None, help="The witness's folder; default: the "
                                                       "configured one."),
    key: str | None = typer.Option(None, help=KEY_HELP),
    archive: Path | None = typer.Option(None, help="A folder of archived months "
                                                   "(civicstack audit archive)."),
) -> None:
    """Recompute the whole tree from every entry (and archived months') and compare it with
    the newest witnessed checkpoint (offline: reads only)."""
    settings = get_settings()
    verifier = _verifier(key)
    witness = DirectoryWitness(witness_dir or settings.resolved_log_witness_dir, verifier)
    engine = make_engine(database or settings.resolved_database_url)
    archived = archived_leaves(_archives(archive)) if archive else []
    with transaction(make_session_factory(engine)) as session:
        report = tlog.full_audit(session, AUDIT_LOG, witness, verifier, archived)
    _report(report, "entries verified")


def _archives(folder: Path) -> list[LogArchive]:
    try:
        return read_archives(folder, AUDIT_LOG)
    except BadNote as exc:
        raise fail(f"archive REJECTED: {exc}") from exc


@audit_app.command("archive")
def audit_archive(
    before: str = typer.Option(..., help="Archive every month before this one (YYYY-MM)."),
    to: Path = typer.Option(..., help="The folder the archives go to."),
) -> None:
    """Write each month's entries before BEFORE, their witnessed checkpoint and proof nodes to
    a file, check every proof from it, then drop the month's partition (PostgreSQL only)."""
    try:
        until = Month.parse(before)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    publishing = publishing_from(get_settings())
    with cli_transaction() as session:
        months = [month for month in months_of(session, AUDIT_LOG.model.__tablename__)
                  if month < until]
    if not months:
        raise fail(f"no month of the audit log before {until} to archive (archiving needs "
                   "PostgreSQL's partitions)")
    for month in months:
        try:
            with cli_transaction() as session:
                archive = archive_month(session, AUDIT_LOG, month, publishing.witness,
                                        publishing.verifier, to)
        except ArchiveRefused as exc:
            raise fail(f"{month} not archived: {exc}") from exc
        typer.echo(f"{month}: {len(archive.entries)} entries archived to "
                   f"{to / archive.file_name}, partition dropped")


@audit_app.command("prove")
def audit_prove(
    seq: int,
    archive: Path | None = typer.Option(None, help="Prove from the archived months in this "
                                                   "folder (the entry's month was archived)."),
) -> None:
    """Print entry SEQ's inclusion proof (C2SP tlog-proof@v1) against the newest witnessed
    checkpoint, or for an archived entry against its archive's checkpoint."""
    publishing = publishing_from(get_settings())
    try:
        if archive:
            proof = _archived_proof(_archives(archive), seq, publishing.verifier)
        else:
            with cli_transaction() as session:
                proof = tlog.prove(session, AUDIT_LOG, seq, publishing.witness,
                                   publishing.verifier)
    except (tlog.NotSealed, BadNote, LookupError) as exc:
        raise fail(str(exc)) from exc
    typer.echo(proof.text(), nl=False)


def _archived_proof(archives: list[LogArchive], seq: int,
                    verifier: NoteVerifier) -> InclusionProof:
    for archive in archives:
        if any(leaf.seq == seq for leaf in archive.entries):
            return archive.prove(seq, verifier, AUDIT_LOG.origin(verifier))
    raise LookupError(f"entry {seq} is in none of the archives")


@audit_app.command("verify-proof")
def audit_verify_proof(
    file: Path, key: str | None = typer.Option(None, help=KEY_HELP),
) -> None:
    """Check a tlog-proof@v1 file with the log's key alone; print the entry it proves."""
    try:
        proof = InclusionProof.parse(file.read_text())
        checkpoint = proof.verify(_verifier(key))
    except BadNote as exc:
        raise fail(f"proof REJECTED: {exc}") from exc
    typer.echo(f"entry {proof.index} is included in {checkpoint.origin} at "
               f"{checkpoint.size} entries:\n{proof.entry.decode()}")
