"""1,000 synthetic dossiers for the officials' inbox, made by the services' own generator, and
the receipt codes a Hà Nội official's inbox must find among them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from civicstack.registry.models import Person
from civicstack.services import demo, synthetic
from civicstack.services.models import Dossier
from civicstack.services.states import State
from tests.support.people import make_person
from tests.support.services import publish_everywhere

TODAY = date.today()
NAMES = ("Trần Thị Mai", "Nguyễn Văn An", "Lê Hoàng Đức", "Phạm Thu Hà", "Võ Minh Khôi",
         "Đặng Ngọc Lan", "Bùi Quốc Việt", "Hồ Thanh Tâm")


def thousand_dossiers(session: Session) -> tuple[list[dict[str, Any]], list[Person]]:
    """1,000 synthetic dossiers: of eight Hà Nội applicants and one in Hồ Chí Minh City (whose
    dossiers a Hà Nội clerk must never see), in every state, some overdue."""
    publish_everywhere(session)
    people = [make_person(session, name, date(1980 + n, 1 + n, 10 + n), province_code="01")
              for n, name in enumerate(NAMES)]
    people.append(make_person(session, "Trần Thị Mai", date(1990, 2, 2), province_code="79",
                              legacy_province_code="79"))
    applicants = [synthetic.Applicant(p.personal_id_number, p.permanent_province_code,
                                      p.permanent_ward_code) for p in people]
    rows = list(synthetic.dossier_rows(applicants, demo.offered(session), 1000, seed=21,
                                       today=TODAY, days_back=14))
    session.execute(insert(Dossier), rows)
    return rows, people


def expected(rows: list[dict[str, Any]], states: frozenset[State], **only: Any) -> set[str]:
    """The receipt codes of the Hà Nội rows in these states, as the inbox must find them."""
    return {row["receipt_code"] for row in rows if row["province_code"] == "01"
            and State(row["state"]) in states
            and all(row[key] == value for key, value in only.items())}
