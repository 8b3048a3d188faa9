"""Demo data for the exchange: ministries and provinces as members, the datasets they publish,
agreement requests granted and refused, a few hundred requests answered through the service
(signed, logged and audited like any other) and a data-quality check, so that the readiness
ranking ranks evidence. Not real data; deterministic; a second run adds nothing."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.orm import Session

from civicstack.exchange import datasets, quality, repository, service
from civicstack.kit.audit import Actor

# code, name, kind
MEMBERS = (
    ("bo-tai-chinh", "Bộ Tài chính", "ministry"),
    ("bo-y-te", "Bộ Y tế", "ministry"),
    ("bo-khcn", "Bộ Khoa học và Công nghệ", "ministry"),
    ("ha-noi", "UBND Thành phố Hà Nội", "province"),
    ("tp-hcm", "UBND Thành phố Hồ Chí Minh", "province"),
    ("da-nang", "UBND Thành phố Đà Nẵng", "province"),
)
SUBSCRIBERS = datasets.NewDataset(
    "bo-khcn", "subscriber_records", "Thuê bao di động đã xác thực",
    ("phone", "full_name"), ("phone", "full_name"))
INSURANCE = datasets.NewDataset(
    "bo-y-te", "health_insurance", "Thẻ bảo hiểm y tế",
    ("card_number", "full_name", "valid_to"), ("card_number", "full_name"))
LEGAL_BASIS = "Nghị định 47/2024/NĐ-CP về chia sẻ dữ liệu"
# consumer, dataset, fields, purpose, granted (or the provider's justification for refusing)
REQUESTS: tuple[tuple[str, str, tuple[str, ...], str, bool | str], ...] = (
    ("bo-tai-chinh", "verify_person", ("full_name", "date_of_birth", "status"),
     "checking taxpayers' identity", True),
    ("ha-noi", "residence", ("permanent_ward_code", "permanent_address_line"),
     "residence for local public services", True),
    ("tp-hcm", "subscriber_records", ("phone", "full_name"),
     "contacting citizens about their dossiers", True),
    ("bo-tai-chinh", "health_insurance", ("card_number", "valid_to"),
     "checking deductions claimed for insurance", True),
    ("da-nang", "health_insurance", ("card_number", "full_name", "valid_to"),
     "planning local health campaigns",
     "health records leave the health sector only for a named legal duty"),
    ("da-nang", "household", ("household_code", "relation_to_head"),
     "household support payments", True),
)
READS = 60  # per granted agreement
UNKNOWN_SHARE = 0.1  # reads about a number the provider does not hold


@dataclass(frozen=True)
class Seeded:
    members: int
    agreements: int
    answered: int
    refused: int


def seed_exchange(session: Session, actor: Actor, signer: ECKey | RSAKey, population: Path,
                  seed: int = 1) -> Seeded | None:
    """None when the demo members exist already."""
    if repository.member_by_code(session, MEMBERS[0][0]) is not None:
        return None
    rng = random.Random(seed)  # noqa: S311 (reproducible demo data, not secrets)
    people = _people(population)
    for code, name, kind in MEMBERS:
        key = ECKey.generate_key("P-256", parameters={"kid": f"{code}-demo"})
        service.register_member(session, actor, code, name, kind,
                                {"keys": [key.as_dict(private=False)]})
    _publish(session, actor, people, rng)
    granted = _decide_requests(session, actor)
    answered = refused = 0
    for agreement in granted:
        member = service.member_named(session, agreement.consumer)
        for _ in range(READS):
            subject = rng.choice(people)[0] if rng.random() > UNKNOWN_SHARE else "079000000000"
            found = service.answer(session, signer, member, agreement.dataset, subject,
                                   agreement.purpose)
            answered, refused = (answered + 1, refused) if found.token else \
                (answered, refused + 1)
    quality.check_all(session, actor)
    return Seeded(len(MEMBERS), len(granted), answered, refused)


def _people(population: Path) -> list[tuple[str, str, str]]:
    """(ID number, full name, phone) of the demo population."""
    with population.open(encoding="utf-8", newline="") as handle:
        return [(row["personal_id_number"], row["full_name"], row["phone"])
                for row in csv.DictReader(handle) if row["phone"]]


def _publish(session: Session, actor: Actor, people: list[tuple[str, str, str]],
             rng: random.Random) -> None:
    """Two datasets, each with the flaws a quality check exists to find: names that differ
    from the register, numbers nobody holds, records not updated for a year."""
    today = date.today()
    for new in (SUBSCRIBERS, INSURANCE):
        datasets.publish(session, actor, new)
        rows = []
        for number, (pid, name, phone) in enumerate(rng.sample(people, min(300, len(people)))):
            flaw = rng.random()
            rows.append({
                "personal_id_number": "0790000" + f"{number:05d}" if flaw < 0.04 else pid,
                "full_name": name.upper() if flaw > 0.93 else name,
                "phone": phone, "card_number": f"DN4{number:012d}",
                "valid_to": (today + timedelta(days=365)).isoformat(),
                "updated_at": (today - timedelta(days=400 if flaw > 0.85 else 3)).isoformat()})
        datasets.upload(session, actor, new.provider, new.code,
                        [{k: v for k, v in row.items() if k in {*new.fields,
                          "personal_id_number", "updated_at"}} for row in rows])


@dataclass(frozen=True)
class _Granted:
    consumer: str
    dataset: str
    purpose: str


def _decide_requests(session: Session, actor: Actor) -> list[_Granted]:
    today = date.today()
    granted = []
    for consumer, dataset, fields, purpose, decision in REQUESTS:
        asked = service.request_agreement(session, actor, service.NewAgreement(
            consumer, dataset, fields, purpose, LEGAL_BASIS, today - timedelta(days=30),
            today + timedelta(days=365)))
        refusal = "" if decision is True else str(decision)
        service.decide_request(session, actor, asked.id, not refusal, refusal)
        if not refusal:
            granted.append(_Granted(consumer, dataset, purpose))
    return granted
