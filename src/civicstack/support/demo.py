"""Demo support: a Hà Nội queue (worked by hotline.hanoi) beside the national and auditors'
queues, its routing rule, and a few tickets of demo people in Hà Nội in several states, one of
them late enough to be escalated. Deterministic: a re-run adds no ticket twice."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.registry.units import current_wards
from civicstack.support import routing, service

HANOI = "01"
TICKETS = (  # topic, subject, text, days ago, the official's answer (or none)
    ("account", "Không đăng nhập được tài khoản định danh",
     "Tôi nhập đúng mật khẩu nhưng hệ thống báo sai.", 1, ""),
    ("dossier", "Hồ sơ khai sinh quá hạn",
     "Hồ sơ của tôi đã quá hạn trả kết quả mà chưa có thông báo.", 12, ""),
    ("documents", "Thẻ bảo hiểm y tế chưa có trong ví",
     "Tôi đã đóng bảo hiểm nhưng chưa thấy thẻ trong ví giấy tờ.", 3,
     "Cơ quan bảo hiểm sẽ đẩy thẻ vào ví trong 2 ngày làm việc."),
)


def hanoi_people(population: Path, limit: int) -> list[str]:
    hanoi_wards = {w["code"] for w in current_wards() if w["province_code"] == HANOI}
    with population.open(encoding="utf-8", newline="") as handle:
        return [row["personal_id_number"] for row in csv.DictReader(handle)
                if row["permanent_ward_code"] in hanoi_wards][:limit]


def seed(session: Session, actor: Actor, population: Path, now: datetime | None = None) -> int:
    """The Hà Nội queue and rule, then the demo tickets; returns how many tickets were added."""
    now = now or datetime.now(UTC)
    routing.save_queue(session, actor, "hanoi", "Tổng đài hỗ trợ Hà Nội",
                       Permission.SUPPORT_HANDLE, "hotro.hanoi@civicstack.example",
                       province_code=HANOI)
    routing.save_rule(session, actor, "hanoi", province_code=HANOI)
    added = 0
    for pid, (topic, subject, text, days_ago, reply) in zip(
            hanoi_people(population, len(TICKETS)), TICKETS, strict=False):
        if service.tickets_of(session, pid):
            continue
        ticket = service.open_ticket(session, Actor("citizen", pid), service.NewTicket(
            pid, topic, subject, text), now - timedelta(days=days_ago))
        if reply:
            service.answer(session, actor, ticket.id, reply)
        added += 1
    service.escalate_late(session, actor, now)
    return added
