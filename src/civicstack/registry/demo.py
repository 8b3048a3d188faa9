"""Demo data: a synthetic population loaded through the real import, then some life events
recorded through the real services, so every page of the demo has history to show."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.audit import Actor
from civicstack.kit.db import transaction
from civicstack.kit.private_files import private_file
from civicstack.registry import service
from civicstack.registry.importer import ImportSummary, ProgressCallback, import_persons
from civicstack.registry.models import Sex
from civicstack.registry.synth import write_population_csv

DEMO_ACTOR = Actor("cli", "demo-seed")
BIRTHS, DEATHS, MOVES = 5, 2, 3
CARD_AGE = 14  # everyone of this age or more holds a chip-based ID card (Luật Căn cước 2023)
CARD_AUTHORITY = "Cục Cảnh sát quản lý hành chính về trật tự xã hội"
LIFE_EVENT_SAMPLE = 5000  # life events are drawn from the first rows, so memory stays small


@dataclass(frozen=True)
class SeedResult:
    imported: ImportSummary
    events_recorded: int


def write_demo_population(data_dir: Path, people: int, seed: int,
                          home_wards: tuple[str, ...] = ()) -> Path:
    """The same `people` and `seed` always give the same file (the owner's alone, like every
    file in the data directory); some households live in `home_wards`, so that the demo
    officials of a ward have people to serve."""
    return write_population_csv(private_file(data_dir / f"demo-population-{people}-{seed}.csv"),
                                people, seed, home_wards)


def seed_population(factory: sessionmaker[Session], population: Path,
                    on_progress: ProgressCallback | None = None) -> SeedResult:
    """Import the file written by write_demo_population, then record some life events.
    Idempotent: a re-run finds everyone already present and records nothing."""
    summary = import_persons(factory, population, DEMO_ACTOR, on_progress=on_progress)
    events = 0
    if summary.rows_loaded:
        with population.open(encoding="utf-8", newline="") as handle:
            rows = list(islice(csv.DictReader(handle), LIFE_EVENT_SAMPLE))
        with transaction(factory) as session:
            events = _life_events(session, rows)
    return SeedResult(summary, events)


def _life_events(session: Session, rows: list[dict[str, str]]) -> int:
    today = date.today()
    by_pid = {row["personal_id_number"]: row for row in rows}
    couples = [(by_pid[row["spouse_id_number"]], row) for row in rows if row["spouse_id_number"]]
    recorded = 0
    for index, (first, second) in enumerate(couples[:BIRTHS]):
        mother, father = (first, second) if first["sex"] == Sex.FEMALE.value else (second, first)
        service.record_birth(session, DEMO_ACTOR, service.Birth(
            f"{father['full_name'].split()[0]} Gia Bảo", today - timedelta(days=30 + index * 40),
            Sex.MALE if index % 2 else Sex.FEMALE, mother["permanent_ward_code"],
            mother_pid=mother["personal_id_number"], father_pid=father["personal_id_number"]))
        recorded += 1
    adults = [row for row in rows if row["phone"]]
    for index, row in enumerate(rows):
        born = date.fromisoformat(row["date_of_birth"])
        if service.age_on(born, today) >= CARD_AGE:
            _issue_card(session, row["personal_id_number"], born, index, today)
            recorded += 1
    for row in sorted(rows, key=lambda r: r["date_of_birth"])[:DEATHS]:
        service.record_death(session, DEMO_ACTOR, row["personal_id_number"],
                             today - timedelta(days=60), "natural causes")
        recorded += 1
    for mover, destination in zip(adults[-MOVES:], adults[:MOVES], strict=True):
        service.record_residence_change(session, DEMO_ACTOR, service.ResidenceChange(
            mover["personal_id_number"], "permanent", destination["permanent_ward_code"],
            destination["permanent_address_line"], today - timedelta(days=10)))
        recorded += 1
    return recorded


def _issue_card(session: Session, personal_id_number: str, born: date, index: int,
                today: date) -> None:
    """A card issued on a day spread over the years since the chip cards began (2021), never
    before the holder turned 14 nor after today, valid 15 years."""
    fourteen = born.replace(year=born.year + CARD_AGE, day=min(born.day, 28))
    issued = min(max(fourteen, date(2021, 1, 1)) + timedelta(days=index % 1200), today)
    service.issue_id_card(session, DEMO_ACTOR, personal_id_number, service.IdCard(
        personal_id_number, issued, issued.replace(year=issued.year + 15, day=min(issued.day, 28)),
        CARD_AUTHORITY))
