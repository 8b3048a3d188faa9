"""A programme with agencies and their officials, built through the real services, for the
monitoring tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy.orm import Session

from civicstack.identity import officials
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role, Scope
from civicstack.monitoring import service
from civicstack.monitoring.models import Task
from civicstack.monitoring.service import NewTask
from tests.support.officials import ADMIN, OFFICIAL_PASSWORD

MANAGER = Actor("official", "manager", NATIONAL, Role.PROGRAMME_OFFICER)
ISSUED = date(2026, 1, 5)
# Officials by username: role, scope, and the agency they belong to ("" for none).
PEOPLE = {
    "reporter.hn": (Role.SERVICE_CLERK, Scope.province("01"), "UBND-HN"),
    "colleague.hn": (Role.POLICE, Scope.province("01"), "UBND-HN"),
    "reporter.hcm": (Role.SERVICE_CLERK, Scope.province("79"), "UBND-HCM"),
    "reporter.bkhcn": (Role.AGENCY_APPROVER, NATIONAL, "BKHCN"),
    "acceptor": (Role.PROGRAMME_OFFICER, NATIONAL, ""),
    "officer.hn": (Role.PROGRAMME_OFFICER, Scope.province("01"), ""),
    "outsider": (Role.SERVICE_CLERK, Scope.province("01"), ""),
}


def as_official(session: Session, username: str) -> Actor:
    found = officials.active_official(session, username)
    assert found is not None
    return found


def seed_programme(session: Session, people: dict[str, tuple[Role, Scope, str]] = PEOPLE,
                   ) -> None:
    """Programme NQ57, a ministry and two provinces' committees, and their officials (those
    not made already, e.g. enrolled to sign in to the console)."""
    service.add_programme(session, MANAGER, "NQ57", "Nghị quyết 57-NQ/TW",
                          "57-NQ/TW ngày 22/12/2024", ISSUED)
    service.add_agency(session, MANAGER, "BKHCN", "Bộ Khoa học và Công nghệ", "ministry")
    service.add_agency(session, MANAGER, "UBND-HN", "UBND thành phố Hà Nội", "province", "01")
    service.add_agency(session, MANAGER, "UBND-HCM", "UBND TP. Hồ Chí Minh", "province", "79")
    for username, (role, scope, agency_code) in people.items():
        if officials.active_official(session, username) is None:
            officials.create(session, ADMIN, officials.NewOfficial(
                username, "Trần Văn Cán Bộ", role, scope, OFFICIAL_PASSWORD))
        if agency_code:
            service.add_member(session, MANAGER, agency_code, username,
                               f"{username}@example.gov.vn")


def new_task(code: str = "T1", responsible: str = "reporter.hn", lead: str = "UBND-HN",
             deadline: date = date(2026, 6, 30), **changes: str) -> NewTask:
    task = NewTask(code=code, work="Số hoá hồ sơ hộ tịch", responsible_official=responsible,
                   deadline=deadline.isoformat(), lead_agency=lead,
                   coordinating_agencies=("UBND-HN",) if lead == "BKHCN" else ("BKHCN",),
                   deliverable="Báo cáo kết quả số hoá",
                   accepting_official="acceptor", accepting_agency="")
    return replace(task, **changes)


def make_task(session: Session, code: str = "T1", responsible: str = "reporter.hn",
              lead: str = "UBND-HN", deadline: date = date(2026, 6, 30), **changes: str) -> Task:
    return service.create_task(session, MANAGER, "NQ57",
                               new_task(code, responsible, lead, deadline, **changes))
