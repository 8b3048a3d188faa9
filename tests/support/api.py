"""Helpers for tests of the officials' JSON API: keys as headers, problem+json checks, and
what the database holds before and after a request (so a refusal can be shown to change nothing).

The app itself comes from `tests.support.web.make_site` (the `site` fixture); keys from
`Site.key`.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.audit import AUDIT_LOG, AuditEntry
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.kit.errors import PROBLEM_MEDIA_TYPE
from civicstack.kit.tlog import log as tlog
from civicstack.kit.tlog.witness import DirectoryWitness
from civicstack.kit.transparency import LogPublishing, seal_and_witness
from civicstack.registry.models import CivilStatusEvent, FamilyRelation, Person
from tests.support.transparency import publishing_in

BASE = "/api/v1/registry"
PURPOSE = "checking a passport application"
READ = Role.AGENCY_APPROVER  # reads the register, writes nothing
READ_WRITE = Role.ADMIN  # every kind of register write


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem with this status; returns the body. A 422 must list its fields."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str)
    assert body["type"].startswith("https://")
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    assert "Traceback" not in response.text
    if status == 422:
        assert body["errors"], "a 422 names the fields it refuses"
        for error in body["errors"]:
            assert set(error) == {"field", "reason"}
            assert error["field"]
            assert error["reason"]
    return body


def fields_of(problem: dict[str, Any]) -> set[str]:
    return {error["field"] for error in problem.get("errors", [])}


def audit_entries(factory: sessionmaker[Session], action: str | None = None,
                  subject_id: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    with transaction(factory) as session:
        return list(session.execute(query).scalars())


# One log key for the test process, removed when it ends; each check hands the tree to a fresh
# witness.
_LOG_KEY_FOLDER = Path(tempfile.mkdtemp(prefix="civicstack-log-key-"))
atexit.register(shutil.rmtree, _LOG_KEY_FOLDER, ignore_errors=True)


def log_is_intact(factory: sessionmaker[Session]) -> bool:
    """Every audit entry sealed, witnessed, and the whole tree recomputed from the entries."""
    with tempfile.TemporaryDirectory() as folder:
        publishing = publishing_in(_LOG_KEY_FOLDER)
        publishing = LogPublishing(publishing.signer, DirectoryWitness(
            Path(folder), publishing.verifier))
        seal_and_witness(factory, publishing, AUDIT_LOG)
        with transaction(factory) as session:
            return tlog.full_audit(session, AUDIT_LOG, publishing.witness,
                                   publishing.verifier).ok


@dataclass(frozen=True)
class RegisterState:
    """Everything a write could touch, to show that a refused one touched nothing."""

    persons: tuple[tuple[str, int, str], ...]  # (ID number, version, status)
    events: int
    relations: tuple[tuple[int, int, str, str | None], ...]
    audit_entries: int


def register_state(factory: sessionmaker[Session]) -> RegisterState:
    with transaction(factory) as session:
        persons = session.execute(select(
            Person.personal_id_number, Person.version, Person.status,
        ).order_by(Person.personal_id_number)).all()
        relations = session.execute(select(
            FamilyRelation.person_id, FamilyRelation.relative_id, FamilyRelation.kind,
            FamilyRelation.until,
        ).order_by(FamilyRelation.id)).all()
        return RegisterState(
            persons=tuple((n, v, s) for n, v, s in persons),
            events=int(session.execute(
                select(func.count()).select_from(CivilStatusEvent)).scalar_one()),
            relations=tuple((p, r, k, u.isoformat() if u else None) for p, r, k, u in relations),
            audit_entries=int(session.execute(
                select(func.count()).select_from(AuditEntry)).scalar_one()),
        )
