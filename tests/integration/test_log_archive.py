"""The logs partitioned by month on PostgreSQL, and past months archived to files: entries
land in their month's partition, partitions are made ahead, an archived month's partition is
dropped, and its entries' proofs still verify from the archive with the published key alone;
an altered archive is caught."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicstack.cli import app
from civicstack.kit import audit
from civicstack.kit.audit import AUDIT_LOG, AuditEntry
from civicstack.kit.db import transaction
from civicstack.kit.partitions import Month, ensure_months_ahead, months_of
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
from civicstack.kit.transparency import LogPublishing, seal_and_witness
from tests.support.transparency import publishing_in

POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
THIS_MONTH = Month.of(datetime.now(UTC))
TWO_MONTHS_AGO, LAST_MONTH = THIS_MONTH.following(-2), THIS_MONTH.following(-1)
CLERK = audit.Actor("official", "clerk-1")


@pytest.fixture
def publishing(tmp_path: Path) -> LogPublishing:
    return publishing_in(tmp_path)


def _written_in(factory: sessionmaker[Session], month: Month, count: int) -> list[int]:
    """Entries as `audit.record` writes them, but dated in `month` (as if written then)."""
    with transaction(factory) as session:
        ensure_months_ahead(session, "audit_entry", month.start, months=0)
        entries = [AuditEntry(occurred_at=month.start + timedelta(days=2, minutes=n),
                              actor=str(CLERK), action="registry.person.read",
                              subject_type="person", subject_id=f"00119001234{n}",
                              purpose="checking a dossier", detail={"n": n, "note": "Nguyễn"})
                   for n in range(count)]
        session.add_all(entries)
        session.flush()
        return [entry.seq for entry in entries]


def _three_months_sealed(factory: sessionmaker[Session],
                         publishing: LogPublishing) -> dict[Month, list[int]]:
    written = {month: _written_in(factory, month, count) for month, count in
               ((TWO_MONTHS_AGO, 5), (LAST_MONTH, 3), (THIS_MONTH, 4))}
    seal_and_witness(factory, publishing, AUDIT_LOG)
    return written


def _archive(factory: sessionmaker[Session], publishing: LogPublishing, month: Month,
             folder: Path) -> LogArchive:
    with transaction(factory) as session:
        return archive_month(session, AUDIT_LOG, month, publishing.witness,
                             publishing.verifier, folder)


def _full_audit(factory: sessionmaker[Session], publishing: LogPublishing,
                archives: Path | None = None) -> tlog.LogReport:
    archived = archived_leaves(read_archives(archives, AUDIT_LOG)) if archives else []
    with transaction(factory) as session:
        return tlog.full_audit(session, AUDIT_LOG, publishing.witness, publishing.verifier,
                               archived)


@POSTGRESQL
def test_each_entry_lands_in_its_months_partition_and_the_log_still_verifies_and_proves(
        session_factory: sessionmaker[Session], publishing: LogPublishing) -> None:
    written = _three_months_sealed(session_factory, publishing)
    with transaction(session_factory) as session:
        placed = dict(session.execute(text(
            "SELECT seq, tableoid::regclass::text FROM audit_entry")).all())
        assert {seq: placed[seq] for seqs in written.values() for seq in seqs} == {
            seq: month.partition_of("audit_entry")
            for month, seqs in written.items() for seq in seqs}
        assert tlog.verify(session, AUDIT_LOG, publishing.witness, publishing.verifier).ok
        proof = tlog.prove(session, AUDIT_LOG, written[TWO_MONTHS_AGO][1], publishing.witness,
                           publishing.verifier)
    assert proof.verify(publishing.verifier).size == 12


@POSTGRESQL
def test_the_partition_job_makes_the_coming_months_once(
        session_factory: sessionmaker[Session]) -> None:
    in_a_year = THIS_MONTH.following(12)
    with transaction(session_factory) as session:
        made = ensure_months_ahead(session, "audit_entry", in_a_year.start)
        assert made == [in_a_year.following(n) for n in range(4)]
        assert ensure_months_ahead(session, "audit_entry", in_a_year.start) == []
        assert set(made) <= set(months_of(session, "audit_entry"))


@POSTGRESQL
def test_an_archived_month_is_dropped_and_its_entries_still_proven_from_the_archive(
        session_factory: sessionmaker[Session], publishing: LogPublishing,
        tmp_path: Path) -> None:
    written = _three_months_sealed(session_factory, publishing)
    archive = _archive(session_factory, publishing, TWO_MONTHS_AGO, tmp_path / "archive")

    assert [leaf.seq for leaf in archive.entries] == written[TWO_MONTHS_AGO]
    with transaction(session_factory) as session:
        assert TWO_MONTHS_AGO not in months_of(session, "audit_entry")
        assert session.get(AuditEntry, written[TWO_MONTHS_AGO][2]) is None
    # A citizen holding only the published key checks the proof made from the archive.
    published_key = NoteVerifier.parse(str(publishing.verifier))
    stored = read_archives(tmp_path / "archive", AUDIT_LOG)
    proof = InclusionProof.parse(stored[0].prove(written[TWO_MONTHS_AGO][2], published_key,
                                                 AUDIT_LOG.origin(published_key)).text())
    assert proof.verify(published_key).size == 12
    assert b'"n":2' in proof.entry
    # The log without the month reads as entries missing, with the archive as whole.
    assert not _full_audit(session_factory, publishing).ok
    assert _full_audit(session_factory, publishing, tmp_path / "archive") == \
        tlog.LogReport(12, True)
    _written_in(session_factory, THIS_MONTH, 2)
    seal_and_witness(session_factory, publishing, AUDIT_LOG)
    with transaction(session_factory) as session:
        assert tlog.verify(session, AUDIT_LOG, publishing.witness, publishing.verifier) == \
            tlog.LogReport(2, True)


def _altered(archive_file: Path, old: bytes, new: bytes) -> None:
    lines = archive_file.read_text().split("\n")
    for number, line in enumerate(lines):
        if line.startswith("entry "):
            kind, place, seq, encoded = line.split(" ")
            entry = base64.b64decode(encoded)
            if old in entry:
                lines[number] = " ".join((kind, place, seq, base64.b64encode(
                    entry.replace(old, new)).decode()))
    archive_file.write_text("\n".join(lines))


@POSTGRESQL
def test_an_altered_archive_proves_nothing_and_fails_the_full_audit(
        session_factory: sessionmaker[Session], publishing: LogPublishing,
        tmp_path: Path) -> None:
    written = _three_months_sealed(session_factory, publishing)
    archive = _archive(session_factory, publishing, LAST_MONTH, tmp_path)
    _altered(tmp_path / archive.file_name, b"checking a dossier", b"curiosity")

    stored = read_archives(tmp_path, AUDIT_LOG)[0]
    with pytest.raises(BadNote, match="not included"):
        stored.prove(written[LAST_MONTH][0], publishing.verifier,
                     AUDIT_LOG.origin(publishing.verifier))
    report = _full_audit(session_factory, publishing, tmp_path)
    assert (report.ok, report.first_bad_seq) == (False, written[LAST_MONTH][0])
    assert "modified" in report.reason


@POSTGRESQL
def test_a_month_not_yet_witnessed_or_not_over_is_not_archived(
        session_factory: sessionmaker[Session], publishing: LogPublishing,
        tmp_path: Path) -> None:
    _three_months_sealed(session_factory, publishing)
    _written_in(session_factory, LAST_MONTH, 1)  # committed, not sealed yet
    with pytest.raises(ArchiveRefused, match="not in a witnessed checkpoint yet"):
        _archive(session_factory, publishing, LAST_MONTH, tmp_path)
    with pytest.raises(ArchiveRefused, match="not over yet"):
        _archive(session_factory, publishing, THIS_MONTH, tmp_path)
    with transaction(session_factory) as session:
        assert LAST_MONTH in months_of(session, "audit_entry")


@SQLITE
def test_archiving_is_refused_where_the_log_is_not_partitioned(
        session_factory: sessionmaker[Session], publishing: LogPublishing,
        tmp_path: Path) -> None:
    with transaction(session_factory) as session:
        audit.record(session, CLERK, "registry.person.read", subject_type="person",
                     subject_id="001190012345", purpose="checking a dossier")
    seal_and_witness(session_factory, publishing, AUDIT_LOG)
    with pytest.raises(ArchiveRefused, match="only PostgreSQL's tables are partitioned"):
        _archive(session_factory, publishing, LAST_MONTH, tmp_path)
    assert _full_audit(session_factory, publishing) == tlog.LogReport(1, True)


@POSTGRESQL
def test_the_cli_archives_past_months_and_proves_an_archived_entry(
        session_factory: sessionmaker[Session], data_dir: Path, tmp_path: Path) -> None:
    written = {month: _written_in(session_factory, month, 2)
               for month in (TWO_MONTHS_AGO, LAST_MONTH, THIS_MONTH)}
    runner = CliRunner()
    assert runner.invoke(app, ["audit", "seal"]).exit_code == 0

    archived = runner.invoke(app, ["audit", "archive", "--before", str(THIS_MONTH),
                                   "--to", str(tmp_path / "archive")])

    assert archived.exit_code == 0, archived.output
    assert f"{TWO_MONTHS_AGO}: 2 entries archived" in archived.output
    assert f"{LAST_MONTH}: 2 entries archived" in archived.output
    proof = tmp_path / "entry.tlog-proof"
    proof.write_text(runner.invoke(app, ["audit", "prove", str(written[LAST_MONTH][1]),
                                         "--archive", str(tmp_path / "archive")]).output)
    key = runner.invoke(app, ["audit", "key"]).output.strip()
    checked = runner.invoke(app, ["audit", "verify-proof", str(proof), "--key", key])
    assert checked.exit_code == 0, checked.output
    full = runner.invoke(app, ["audit", "full-audit", "--archive", str(tmp_path / "archive")])
    assert "audit log intact: 6 entries verified" in full.output
