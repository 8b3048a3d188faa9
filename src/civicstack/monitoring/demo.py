"""The demo programme: Resolution 57 (NQ57) with ministries and provinces, about sixty tasks
under the six principles, daily updates, some overdue, some accepted on time. Synthetic, and
deterministic; a second run adds nothing.

The demo officials (identity/demo.py) take part: programme.hanoi oversees Hà Nội's tasks and
accepts them; police.hanoi, hotline.hanoi and clerk.badinh report on them; admin accepts for
the Government Office. Each other agency gets a focal point (nq57.<agency>), an official
account with a password nobody is told (an admin resets it to use it)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from civicstack.identity import officials
from civicstack.kit import calendar
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role, Scope
from civicstack.kit.calendar import add_working_days, is_working_day
from civicstack.kit.errors import NotFound
from civicstack.monitoring import repository, service
from civicstack.monitoring.models import Task
from civicstack.monitoring.service import NewTask

GOVERNMENT_OFFICE = "VPCP"
# code, name, kind, province code, the officials who report for it
AGENCIES: tuple[tuple[str, str, str, str | None, tuple[str, ...]], ...] = (
    (GOVERNMENT_OFFICE, "Văn phòng Chính phủ", "other", None, ("admin",)),
    ("BKHCN", "Bộ Khoa học và Công nghệ", "ministry", None, ("nq57.bkhcn",)),
    ("BCA", "Bộ Công an", "ministry", None, ("nq57.bca",)),
    ("BNV", "Bộ Nội vụ", "ministry", None, ("nq57.bnv",)),
    ("BTC", "Bộ Tài chính", "ministry", None, ("nq57.btc",)),
    ("BGDDT", "Bộ Giáo dục và Đào tạo", "ministry", None, ("nq57.bgddt",)),
    ("UBND-01", "UBND thành phố Hà Nội", "province", "01",
     ("police.hanoi", "hotline.hanoi", "clerk.badinh", "programme.hanoi")),
    ("UBND-79", "UBND Thành phố Hồ Chí Minh", "province", "79", ("nq57.hcm",)),
    ("UBND-48", "UBND thành phố Đà Nẵng", "province", "48", ("nq57.danang",)),
    ("UBND-31", "UBND thành phố Hải Phòng", "province", "31", ("nq57.haiphong",)),
)
FOCAL_POINT = "nq57."
HANOI_REPORTERS = ("police.hanoi", "hotline.hanoi", "clerk.badinh")
WORKS = (
    ("Xây dựng cơ sở dữ liệu {topic} và kết nối với Cơ sở dữ liệu quốc gia về dân cư",
     "Cơ sở dữ liệu {topic} vận hành, có biên bản nghiệm thu"),
    ("Cung cấp dịch vụ công trực tuyến toàn trình về {topic}",
     "Dịch vụ công trực tuyến {topic} trên Cổng Dịch vụ công quốc gia"),
    ("Ban hành kế hoạch chuyển đổi số về {topic}", "Kế hoạch được ký ban hành"),
    ("Tổ chức đào tạo kỹ năng số cho cán bộ về {topic}", "Báo cáo kết quả đào tạo"),
    ("Rà soát, làm sạch dữ liệu {topic}", "Báo cáo rà soát dữ liệu {topic}"),
    ("Triển khai chữ ký số cho hồ sơ {topic}", "Quy trình ký số áp dụng toàn ngành"),
)
TOPICS = ("hộ tịch", "đất đai", "giáo dục", "y tế", "thuế", "bảo hiểm xã hội",
          "doanh nghiệp", "giao thông", "cán bộ công chức", "an sinh xã hội")
TASKS_PER_AGENCY = 7
PRODUCTS = "https://vanban.chinhphu.vn/nq57"  # where the demo's products are said to be
ISSUED_DAYS_AGO = 200


@dataclass(frozen=True)
class Plan:
    """What happens to one demo task: when it is due, how far it got, and when handed in."""

    deadline: date
    percent: int
    submitted: date | None
    accepted: bool


def _ensure_officials(session: Session, actor: Actor) -> None:
    """The focal points; the demo officials must exist already (`demo seed` makes them)."""
    for code, _, _, province_code, usernames in AGENCIES:
        for username in usernames:
            if not username.startswith(FOCAL_POINT):
                if officials.active_official(session, username) is None:
                    raise NotFound("the demo officials are missing: run `civicstack demo "
                                   "seed` first")
            elif officials.active_official(session, username) is None:
                scope = Scope.province(province_code) if province_code else NATIONAL
                officials.create(session, actor, officials.NewOfficial(
                    username, f"Đầu mối NQ57 {code}", Role.AGENCY_APPROVER, scope,
                    officials.initial_password()))


def _seed_agencies(session: Session, actor: Actor) -> None:
    for code, name, kind, province_code, usernames in AGENCIES:
        service.add_agency(session, actor, code, name, kind, province_code)
        for username in usernames:
            service.add_member(session, actor, code, username,
                               f"{username}@{code.lower()}.gov.vn")


def _plan(rng: random.Random, today: date) -> Plan:
    deadline = add_working_days(today - timedelta(days=120), rng.randint(0, 120))
    if deadline >= today:
        return Plan(deadline, rng.choice((0, 10, 30, 50, 70)), None, False)
    kind = rng.random()
    if kind < 0.45:  # handed in on time and accepted
        return Plan(deadline, 100, deadline - timedelta(days=rng.randint(0, 10)), True)
    if kind < 0.6:  # handed in late, accepted
        return Plan(deadline, 100, min(today, deadline + timedelta(days=rng.randint(1, 15))),
                    True)
    return Plan(deadline, rng.choice((20, 40, 60, 80, 90)), None, False)  # overdue


def _progress(session: Session, task: Task, plan: Plan, today: date) -> None:
    """A few updates on working days before the hand-in (or today), rising to the percent."""
    reporter = officials.active_official(session, task.responsible_official)
    assert reporter is not None
    last = plan.submitted or today
    days = sorted(day for day in (last - timedelta(days=n) for n in range(0, 40, 6))
                  if is_working_day(day)) or [last]
    for step, day in enumerate(days, start=1):
        percent = plan.percent * step // len(days)
        service.post_update(session, reporter, task.id, percent,
                            f"Đã hoàn thành {percent} % khối lượng công việc: "
                            f"{task.deliverable.lower()}", [], today=day)
    if plan.submitted:
        service.transition(session, reporter, task.id, "submit", today=plan.submitted,
                           product=service.HandedIn(link=f"{PRODUCTS}/{task.code}"))


def _accept(session: Session, task: Task, plan: Plan, today: date) -> None:
    authority = officials.active_official(session, task.accepting_official or "admin")
    assert authority is not None
    assert plan.submitted is not None
    service.transition(session, authority, task.id, "accept",
                       today=min(today, plan.submitted + timedelta(days=2)), checked=True)


def _new_task(rng: random.Random, code: str, lead: str, reporters: tuple[str, ...],
              deadline: date, number: int) -> NewTask:
    work, product = WORKS[number % len(WORKS)]
    topic = TOPICS[rng.randrange(len(TOPICS))]
    hanoi = lead == "UBND-01"
    others = [c for c, *_ in AGENCIES if c not in (lead, GOVERNMENT_OFFICE)]
    return NewTask(code=f"NQ57-{code}-{number:02d}", work=work.format(topic=topic),
                   responsible_official=rng.choice(HANOI_REPORTERS if hanoi else reporters),
                   deadline=deadline.isoformat(), lead_agency=lead,
                   coordinating_agencies=tuple(sorted(rng.sample(others, 2))),
                   deliverable=product.format(topic=topic),
                   accepting_official="programme.hanoi" if hanoi else "",
                   accepting_agency="" if hanoi else GOVERNMENT_OFFICE)


def seed(session: Session, actor: Actor, today: date | None = None, seed_value: int = 57,
         ) -> int:
    """The NQ57 programme and its tasks; returns how many tasks were added (0 when the
    programme exists already)."""
    day = today or calendar.today()
    if repository.programme_by_code(session, "NQ57") is not None:
        return 0
    rng = random.Random(seed_value)  # noqa: S311 (synthetic demo data, not secrets)
    _ensure_officials(session, actor)
    _seed_agencies(session, actor)
    service.add_programme(session, actor, "NQ57", "Nghị quyết 57-NQ/TW về đột phá phát triển "
                          "khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số quốc gia",
                          "57-NQ/TW ngày 22/12/2024", day - timedelta(days=ISSUED_DAYS_AGO))
    added = 0
    for code, _, _, _, reporters in AGENCIES[1:]:
        for number in range(1, TASKS_PER_AGENCY + 1):
            plan = _plan(rng, day)
            task = service.create_task(session, actor, "NQ57", _new_task(
                rng, code, code, reporters, plan.deadline, number))
            if plan.percent or plan.submitted:
                _progress(session, task, plan, day)
            if plan.accepted:
                _accept(session, task, plan, day)
            added += 1
    return added
