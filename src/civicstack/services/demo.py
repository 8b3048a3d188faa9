"""Demo dossiers: a few hundred synthetic dossiers of the demo population (online and at the
counter, in every state, some overdue), so the public statistics show real figures. Not real
data; deterministic, so a re-run adds nothing twice."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from civicstack.registry import service as registry
from civicstack.registry.units import current_wards
from civicstack.services import repository, service, synthetic
from civicstack.services.models import Dossier, DossierEvent

DECISIONS = {"approved": "approve", "result_delivered": "approve", "refused": "refuse"}


def applicants(population: Path, limit: int) -> list[synthetic.Applicant]:
    province_of = {w["code"]: w["province_code"] for w in current_wards()}
    with population.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle)
                if row["permanent_ward_code"] in province_of]
    return [synthetic.Applicant(row["personal_id_number"],
                                province_of[row["permanent_ward_code"]],
                                row["permanent_ward_code"]) for row in rows[:limit]]


def offered(session: Session) -> list[synthetic.Offered]:
    return [synthetic.Offered(p.procedure.id, p.procedure.code, p.agency.ministry,
                              p.procedure.processing_days, p.fee, p.online_fee)
            for p in service.national_catalogue(session)]


def seed_dossiers(session: Session, population: Path, count: int, seed: int = 1,
                  today: date | None = None) -> int:
    """Publish the demo catalogue everywhere, then add the dossiers; returns how many."""
    service.seed_catalogue(session, [p.code for p in registry.provinces(session)])
    people = applicants(population, count)
    added = 0
    for row in synthetic.dossier_rows(people, offered(session), count, seed,
                                      today or date.today()):
        if repository.receipt_taken(session, row["receipt_code"]):
            continue
        dossier = Dossier(**row)
        session.add(dossier)
        session.flush()
        _history(session, dossier)
        added += 1
    return added


def _history(session: Session, dossier: Dossier) -> None:
    """The events a dossier in this state would have: submitted, then decided if it was."""
    assert dossier.submitted_at is not None
    steps = [("submit", "draft", "submitted", dossier.submitted_at)]
    action = DECISIONS.get(dossier.state)
    if action and dossier.decided_at is not None:
        steps.append((action, "in_processing", "refused" if action == "refuse" else "approved",
                      dossier.decided_at))
    for seq, (name, before, after, moment) in enumerate(steps, start=1):
        session.add(DossierEvent(dossier_id=dossier.id, seq=seq, action=name,
                                 from_state=before, to_state=after,
                                 actor=synthetic.SYNTHETIC_ACTOR, reason="", occurred_at=moment,
                                 detail={"synthetic": True}))
