"""Synthetic dossiers for the demo dashboard and the benchmark: not real data, and not made
through the services' rules (those are exercised by the tests and the benchmark's workflow
part); rows with plausible channels, states and dates, deterministic for a given seed. Each
province and ministry gets its own online rate, so the charts show real spread around the
80 % target."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from civicstack.kit import calendar

SYNTHETIC_ACTOR = "cli:synthetic-dossiers"
# (state, weight): most dossiers are finished; some still open, a few withdrawn.
STATES = (("result_delivered", 40), ("approved", 8), ("refused", 6), ("in_processing", 14),
          ("received", 10), ("submitted", 12), ("supplement_requested", 4),
          ("supplemented", 2), ("withdrawn", 4))
DECIDED = frozenset({"result_delivered", "approved", "refused"})


@dataclass(frozen=True)
class Applicant:
    personal_id_number: str
    province_code: str
    ward_code: str


@dataclass(frozen=True)
class Offered:
    procedure_id: int
    code: str
    ministry: str
    processing_days: int
    fee: int
    online_fee: int


def _leaning(key: str) -> float:
    """A stable share between 0 and 1 for a province or a ministry."""
    return (zlib.crc32(key.encode()) % 1000) / 1000


@lru_cache(maxsize=100_000)
def _due(submitted: date, days: int) -> date:
    return calendar.add_working_days(submitted, days)


def dossier_rows(applicants: list[Applicant], offered: list[Offered], count: int, seed: int,
                 today: date, days_back: int = 330) -> Iterator[dict[str, Any]]:
    """`count` rows of service_dossier columns, submitted over the last `days_back` days."""
    pick = random.Random(seed)  # noqa: S311 (reproducible demo data, not secrets)
    states, weights = zip(*STATES, strict=True)
    for number in range(count):
        person = applicants[number % len(applicants)] if number < len(applicants) \
            else pick.choice(applicants)
        procedure = pick.choice(offered)
        online_share = 0.1 + 0.5 * _leaning(person.province_code) + \
            0.35 * _leaning(procedure.ministry)
        channel = "online" if pick.random() < online_share else "assisted"
        day = today - timedelta(days=pick.randrange(days_back))
        submitted = datetime.combine(day, time(pick.randrange(1, 10), pick.randrange(60)),
                                     UTC)
        due = _due(day, procedure.processing_days)
        state = pick.choices(states, weights)[0]
        if state not in DECIDED and state != "withdrawn" and due < today and \
                pick.random() < 0.8:
            state = "result_delivered"  # most past their due date are done; the rest overdue
        decided = None
        if state in DECIDED:
            late = pick.random() < 0.12
            offset = (due - day).days + (pick.randrange(1, 6) if late else -pick.randrange(
                0, max(1, (due - day).days + 1)))
            decided = submitted + timedelta(days=max(0, offset), hours=pick.randrange(8))
            decided = min(decided, datetime.combine(today, time(1), UTC))
        yield {
            "receipt_code": f"{person.province_code}{day:%y%m%d}-Z{seed % 100:02d}{number:07d}",
            "procedure_id": procedure.procedure_id, "group_id": None,
            "applicant_pid": person.personal_id_number, "submitted_by": SYNTHETIC_ACTOR,
            "channel": channel, "state": state, "province_code": person.province_code,
            "ward_code": person.ward_code, "data": {},
            "fee": procedure.online_fee if channel == "online" else procedure.fee,
            "payment_reference": None, "assigned_to": None, "created_at": submitted,
            "submitted_at": submitted, "due_on": due, "decided_at": decided,
            "decision_reason": "", "result_pdf": None, "result_credential_id": None,
            "result_person_pid": None, "version": 1,
        }
