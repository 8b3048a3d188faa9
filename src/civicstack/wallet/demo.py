"""Demo wallets: synthetic documents pushed by the demo agencies for part of the demo
population, so the portal's wallet and the monthly list have something to show, and the demo
police's grant for their ministry's documents. Not real data; deterministic from the ID number,
so a re-run issues nothing twice."""

from __future__ import annotations

import csv
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from civicstack.identity import service as identity
from civicstack.identity.demo import code_at
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role, Scope
from civicstack.kit.cli_support import CLI_ACTOR
from civicstack.kit.db import transaction
from civicstack.kit.errors import DomainError
from civicstack.organisations import service as organisations
from civicstack.organisations.models import MemberPermission
from civicstack.wallet import repository, service
from civicstack.wallet.site import WalletSite

DEMO_AGENCY = Actor("cli", "demo-agencies")
# The Hà Nội police of the demo officials (`civicstack demo seed`) reinstate a card reported
# lost: they act for the Ministry of Public Security's documents.
DEMO_GRANTS = (("bo-cong-an", Actor("official", "police.hanoi")),)
HOSPITALS = ("Bệnh viện Bạch Mai", "Bệnh viện Chợ Rẫy", "Bệnh viện Đa khoa tỉnh",
             "Trạm y tế phường")
SCHOOLS = ("Đại học Quốc gia Hà Nội", "Đại học Bách khoa Hà Nội",
           "Đại học Kinh tế TP. Hồ Chí Minh", "Trường Cao đẳng Kỹ thuật Cao Thắng")
VEHICLES = (("Honda Wave Alpha", "Đỏ"), ("Yamaha Sirius", "Đen"), ("VinFast VF 5", "Trắng"),
            ("Toyota Vios", "Bạc"))


def _number(pid: str, salt: str) -> int:
    return zlib.crc32(f"{salt}:{pid}".encode())


def _person(row: dict[str, str]) -> dict[str, Any]:
    return {"personal_id_number": row["personal_id_number"], "full_name": row["full_name"],
            "date_of_birth": row["date_of_birth"]}


def _health(row: dict[str, str]) -> dict[str, Any]:
    pid = row["personal_id_number"]
    return {**_person(row), "card_number": f"{_number(pid, 'bhyt') % 10**10:010d}",
            "hospital": HOSPITALS[_number(pid, "hospital") % len(HOSPITALS)],
            "valid_from": "2026-01-01", "valid_to": "2026-12-31"}


def _licence(row: dict[str, str]) -> dict[str, Any]:
    pid = row["personal_id_number"]
    return {**_person(row), "licence_number": f"{_number(pid, 'gplx') % 10**12:012d}",
            "classes": ["A1", "B"] if _number(pid, "class") % 2 else ["A1"],
            "issued_on": "2019-08-15", "valid_to": "2029-08-15"}


def _vehicle(row: dict[str, str]) -> dict[str, Any]:
    pid = row["personal_id_number"]
    model, colour = VEHICLES[_number(pid, "vehicle") % len(VEHICLES)]
    return {**_person(row), "plate": f"29A-{_number(pid, 'plate') % 100000:05d}",
            "make_model": model, "colour": colour, "registered_on": "2022-03-10"}


def _tax(row: dict[str, str]) -> dict[str, Any]:
    return {**_person(row), "tax_code": f"8{_number(row['personal_id_number'], 'mst') % 10**9:09d}",
            "tax_office": "Thuế cơ sở 1 Hà Nội"}


def _diploma(row: dict[str, str]) -> dict[str, Any]:
    pid = row["personal_id_number"]
    born = date.fromisoformat(row["date_of_birth"])
    return {**_person(row), "qualification": "Cử nhân",
            "institution": SCHOOLS[_number(pid, "school") % len(SCHOOLS)],
            "graduation_year": born.year + 22,
            "diploma_number": f"QH-{_number(pid, 'diploma') % 10**6:06d}"}


# Which adults get what: every adult a health card, some a licence, fewer a car or a degree.
AGENCY_DOCUMENTS: tuple[tuple[str, int, Callable[[dict[str, str]], dict[str, Any]]], ...] = (
    ("health_insurance", 1, _health), ("driving_licence", 2, _licence),
    ("tax_code", 2, _tax), ("vehicle_registration", 3, _vehicle), ("diploma", 4, _diploma),
)


def _adults(population: Path, limit: int) -> list[dict[str, str]]:
    with population.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle)
                if row["date_of_birth"] < f"{date.today().year - 22}-01-01" and row["phone"]]
    return rows[:limit]


def _issue_for(session: Session, site: WalletSite, row: dict[str, str]) -> int:
    pid = row["personal_id_number"]
    held = {c.document_type_id for c in repository.credentials_of(session, pid)}
    issued = 0
    for code, every, claims in AGENCY_DOCUMENTS:
        if _number(pid, code) % every or service.document_type(session, code).id in held:
            continue
        service.issue_credential(session, site, DEMO_AGENCY, code, pid, claims(row))
        issued += 1
    return issued


def seed_wallets(factory: sessionmaker[Session], site: WalletSite, population: Path,
                 limit: int = 300) -> int:
    """Returns how many documents were issued; a person the register refuses (deceased, say)
    is skipped, in their own transaction."""
    with transaction(factory) as session:
        service.seed_catalogue(session)
        for slug, official in DEMO_GRANTS:
            if not service.acts_for(session, official, service.issuer(session, slug).id):
                service.grant_issuer(session, CLI_ACTOR, slug, official)
    issued = 0
    for row in _adults(population, limit):
        try:
            with transaction(factory) as session:
                issued += _issue_for(session, site, row)
        except DomainError:
            continue
    return issued


# --- demo organisations: registered by demo citizens, with staff and business documents -------

DEMO_ORGANISATION_OFFICER = Actor("official", "police.hanoi", Scope.province("01"), Role.POLICE)
# Real tax codes (their check digits right), names and head offices of synthetic companies.
DEMO_ORGANISATIONS = (
    ("0100233488", "Công ty TNHH Phần mềm Sông Hồng", "Song Hong Software Co., Ltd",
     "12 Phố Huế", "2015-04-20"),
    ("0314409058", "Công ty Cổ phần Thực phẩm Ba Đình", "Ba Dinh Foods JSC",
     "8 Đường Quang Trung", "2018-09-03"),
)
SIGNED_IN_FROM = ("civicstack demo seed", "127.0.0.1")


@dataclass(frozen=True)
class Representative:
    """A demo citizen at level 2 who registers an organisation, and whom they authorise."""

    personal_id_number: str
    full_name: str
    totp_secret: str
    employee_pid: str | None


def seed_organisations(factory: sessionmaker[Session], site: WalletSite, totp_key: str,
                       ward_code: str, representatives: list[Representative]) -> int:
    """Each representative registers one demo organisation (a level-2 sign-in, as in the
    portal), a police official approves it, the representative authorises their employee,
    and the business registry's agency issues the registration certificate into the
    organisation's wallet. An organisation already registered is left as it is; returns how
    many were made."""
    with transaction(factory) as session:
        service.seed_catalogue(session)
    made = 0
    for (tax_code, name, english, address, since), rep in zip(
            DEMO_ORGANISATIONS, representatives, strict=False):
        with transaction(factory) as session:
            account = identity.account_for_person(session, rep.personal_id_number)
            if account is None or organisations.my_organisations(session, account):
                continue
        token = _level_two_session(factory, totp_key, rep)
        details = organisations.OrganisationDetails(tax_code, name, ward_code, address, english)
        with transaction(factory) as session:
            organisations.register(session, _signed(session, token), details)
        with transaction(factory) as session:
            organisations.decide(session, DEMO_ORGANISATION_OFFICER, tax_code, "approve",
                                 "demo: matches the national business registry")
            if rep.employee_pid:
                organisations.add_member(session, _signed(session, token), tax_code,
                                         rep.employee_pid, [p.value for p in MemberPermission])
            service.issue_credential(session, site, DEMO_AGENCY, "business_registration",
                                     tax_code, {
                                         "tax_code": tax_code, "name": name,
                                         "legal_representative": rep.full_name,
                                         "head_office": address, "registered_on": since})
        made += 1
    return made


def _level_two_session(factory: sessionmaker[Session], totp_key: str,
                       rep: Representative) -> str:
    """A browser session raised to level 2 with the next code of the representative's app
    (the current one was spent confirming it)."""
    with transaction(factory) as session:
        account = identity.account_for_person(session, rep.personal_id_number)
        assert account is not None, "seed_organisations checked it"
        token = identity.start_session(session, account, *SIGNED_IN_FROM)
    with transaction(factory) as session:
        outcome = identity.step_up(session, totp_key, token, code_at(rep.totp_secret, 1))
        if outcome != identity.CodeOutcome.ACCEPTED:
            raise RuntimeError(f"the demo authenticator's code was refused: {outcome.value}")
    return token


def _signed(session: Session, token: str) -> identity.SignedIn:
    found = identity.signed_in(session, token)
    if found is None:
        raise RuntimeError("the demo representative's session has ended")
    return found
