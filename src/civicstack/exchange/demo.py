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
# Each member publishes one dataset; its flaw rate (names differing from the register, numbers
# nobody holds, records a year old) is what the quality check and the ranking tell apart.
PUBLISHED: tuple[tuple[datasets.NewDataset, float], ...] = (
    (datasets.NewDataset("bo-khcn", "subscriber_records", "Thuê bao di động đã xác thực",
                         ("phone", "full_name"), ("phone", "full_name")), 0.05),
    (datasets.NewDataset("bo-y-te", "health_insurance", "Thẻ bảo hiểm y tế",
                         ("card_number", "full_name", "valid_to"), ("card_number", "full_name")),
     0.15),
    (datasets.NewDataset("bo-tai-chinh", "tax_registrations", "Mã số thuế cá nhân",
                         ("tax_code", "full_name"), ("tax_code", "full_name")), 0.10),
    (datasets.NewDataset("ha-noi", "business_households", "Hộ kinh doanh Hà Nội",
                         ("business_name", "full_name"), ("business_name", "full_name")), 0.25),
    (datasets.NewDataset("tp-hcm", "social_allowances", "Trợ cấp xã hội TP. Hồ Chí Minh",
                         ("allowance", "full_name"), ("allowance", "full_name")), 0.35),
    (datasets.NewDataset("da-nang", "land_use_rights", "Giấy chứng nhận quyền sử dụng đất",
                         ("certificate_number", "full_name"), ("certificate_number",)), 0.45),
)
RECORDS = 300  # per published dataset
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
    ("ha-noi", "tax_registrations", ("tax_code",), "licensing household businesses", True),
    ("bo-tai-chinh", "business_households", ("business_name",),
     "registering household businesses for tax", True),
    ("bo-y-te", "social_allowances", ("allowance",), "health insurance paid by the state", True),
    ("tp-hcm", "land_use_rights", ("certificate_number", "full_name"),
     "housing support checks",
     "land records are shared only with the province where the land lies"),
    ("bo-tai-chinh", "land_use_rights", ("certificate_number",), "land use levies", True),
)
READS = 40  # per granted agreement
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
    held = _publish(session, actor, people, rng)
    granted = _decide_requests(session, actor)
    answered = 0
    for agreement in granted:
        member = service.member_named(session, agreement.consumer)
        subjects = held.get(agreement.dataset) or [pid for pid, _, _ in people]
        for _ in range(READS):
            subject = rng.choice(subjects) if rng.random() > UNKNOWN_SHARE else "079000000000"
            found = service.answer(session, signer, member, agreement.dataset, subject,
                                   agreement.purpose)
            answered += found.token is not None
    quality.check_all(session, actor)
    return Seeded(len(MEMBERS), len(granted), answered, len(granted) * READS - answered)


def _people(population: Path) -> list[tuple[str, str, str]]:
    """(ID number, full name, phone) of the demo population."""
    with population.open(encoding="utf-8", newline="") as handle:
        return [(row["personal_id_number"], row["full_name"], row["phone"])
                for row in csv.DictReader(handle) if row["phone"]]


def _publish(session: Session, actor: Actor, people: list[tuple[str, str, str]],
             rng: random.Random) -> dict[str, list[str]]:
    """Each member's dataset, with the flaws a quality check exists to find; returns the ID
    numbers each dataset holds."""
    today = date.today()
    held: dict[str, list[str]] = {}
    for new, flaw_rate in PUBLISHED:
        datasets.publish(session, actor, new)
        rows = []
        for number, (pid, name, phone) in enumerate(rng.sample(people, min(RECORDS,
                                                                           len(people)))):
            flawed = rng.random() < flaw_rate
            flaw = rng.choice(("number", "name", "stale")) if flawed else ""
            values = {"phone": phone, "full_name": name.upper() if flaw == "name" else name,
                      "card_number": f"DN4{number:012d}", "tax_code": f"8{number:09d}",
                      "business_name": f"Hộ kinh doanh {name}", "allowance": "bảo trợ xã hội",
                      "certificate_number": f"CS {number:06d}",
                      "valid_to": (today + timedelta(days=365)).isoformat()}
            rows.append({
                **{field: values[field] for field in new.fields},
                "personal_id_number": f"0790000{number:05d}" if flaw == "number" else pid,
                "updated_at": (today - timedelta(days=400 if flaw == "stale" else 3)).isoformat()})
        datasets.upload(session, actor, new.provider, new.code, rows)
        held[new.code] = [row["personal_id_number"] for row in rows]
    return held


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
