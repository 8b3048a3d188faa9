"""Monitoring's rules: agencies and their officials, programmes, tasks under the six clear
principles, their life (states.py) with four-eyes acceptance of the product handed in, the
history of progress updates with evidence, overdue tasks counted in working days, and
reminders. Services never commit; the caller owns the transaction."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from civicstack.identity import officials
from civicstack.kit import audit, calendar, outbox, uploads
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission, ScopeLevel
from civicstack.kit.calendar import add_working_days, working_days_between
from civicstack.kit.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.kit.uploads import Refusal
from civicstack.monitoring import repository
from civicstack.monitoring.models import (
    Agency,
    AgencyMember,
    Evidence,
    Product,
    Programme,
    ProgressUpdate,
    Reminder,
    Task,
    TaskEvent,
)
from civicstack.monitoring.states import TRANSITIONS, WORKING, Party, State
from civicstack.registry import service as registry

PURPOSE = "task monitoring"


class HasId(Protocol):
    @property
    def id(self) -> int: ...


Added = TypeVar("Added", bound=HasId)
AGENCY_KINDS = ("ministry", "province", "other")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
MAX_EVIDENCE_FILES = 5  # per update
WRONG_EVIDENCE = N_("evidence must be a PDF, JPEG or PNG file")
EVIDENCE_WORDS = {Refusal.NOT_ALLOWED: WRONG_EVIDENCE, Refusal.MISLABELLED: WRONG_EVIDENCE,
                  Refusal.TOO_LARGE: N_("each file must be at most 5 MB")}
EVIDENCE_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
PRODUCT_WORDS = {Refusal.NOT_ALLOWED: N_("the product must be a PDF, JPEG or PNG file"),
                 Refusal.MISLABELLED: N_("the product must be a PDF, JPEG or PNG file"),
                 Refusal.TOO_LARGE: N_("each file must be at most 5 MB")}
MAX_LINK = 500
MAX_TEXT = 4000  # characters of an update
DUE_SOON_WORKING_DAYS = 3  # reminders also go to tasks due within this many working days


def _record(session: Session, actor: Actor, action: str, subject_type: str, subject_id: str,
            detail: dict[str, object]) -> None:
    audit.record(session, actor, action, subject_type=subject_type, subject_id=subject_id,
                 purpose=PURPOSE, detail=detail)


def _added(session: Session, actor: Actor, row: Added, action: str, subject_type: str,
           detail: dict[str, object], subject_id: str = "") -> Added:
    """A new row, flushed, and its audit entry (about the row's id unless told otherwise)."""
    session.add(row)
    session.flush()
    _record(session, actor, action, subject_type, subject_id or str(row.id), detail)
    return row


# --- agencies and their officials -----------------------------------------------------------

def add_agency(session: Session, actor: Actor, code: str, name: str, kind: str,
               province_code: str | None = None) -> Agency:
    actor.require(Permission.TASKS_MANAGE)
    errors = []
    if not CODE.match(code):
        errors.append(FieldError("code", "use up to 30 letters, digits, dots or dashes"))
    elif repository.agency_by_code(session, code):
        errors.append(FieldError("code", "an agency with this code exists already"))
    if not name.strip():
        errors.append(FieldError("name", "give the agency's name"))
    if kind not in AGENCY_KINDS:
        errors.append(FieldError("kind", "must be ministry, province or other"))
    if kind == "province" and not province_code:
        errors.append(FieldError("province_code", "a province's agency needs its province"))
    elif province_code and province_code not in {p.code for p in registry.provinces(session)}:
        errors.append(FieldError("province_code", "no current province has this code"))
    if errors:
        raise Invalid.of_fields(errors)
    agency = Agency(code=code, name=name.strip(), kind=kind, province_code=province_code or None)
    return _added(session, actor, agency, "monitoring.agency.add", "monitoring_agency",
                  {"name": agency.name, "kind": kind, "province_code": province_code}, code)


def agency(session: Session, code: str) -> Agency:
    found = repository.agency_by_code(session, code)
    if found is None:
        raise NotFound("no such agency")
    return found


def add_member(session: Session, actor: Actor, agency_code: str, username: str,
               email: str) -> AgencyMember:
    """An official joins an agency, with the work address their reminders go to."""
    actor.require(Permission.TASKS_MANAGE)
    joined = agency(session, agency_code)
    _require_covers(actor, joined)
    if officials.active_official(session, username) is None:
        raise Invalid("username", "no active official has this username")
    if not EMAIL.match(email):
        raise Invalid("email", "give a work e-mail address")
    if repository.member(session, joined.id, username):
        raise Conflict("this official already belongs to the agency")
    return _added(session, actor, AgencyMember(agency_id=joined.id, username=username,
                                                email=email),
                  "monitoring.agency.member", "monitoring_agency", {"username": username},
                  agency_code)


def covers(actor: Actor, lead: Agency) -> bool:
    """A national scope covers every agency; a province scope its province's agencies (a
    ministry's tasks belong to the national level); a ward scope none."""
    if actor.scope.level == ScopeLevel.NATIONAL:
        return True
    return lead.province_code is not None and actor.scope.covers_province(lead.province_code)


def _require_covers(actor: Actor, lead: Agency) -> None:
    if not covers(actor, lead):
        raise Forbidden("this agency is outside your scope")


# --- programmes and tasks -------------------------------------------------------------------

def add_programme(session: Session, actor: Actor, code: str, title: str, legal_reference: str,
                  issued_on: date) -> Programme:
    actor.require(Permission.TASKS_MANAGE)
    if not CODE.match(code):
        raise Invalid("code", "use up to 30 letters, digits, dots or dashes")
    if repository.programme_by_code(session, code):
        raise Conflict("a programme with this code exists already")
    if not title.strip() or not legal_reference.strip():
        raise Invalid("title", "give the programme's title and legal reference")
    return _added(session, actor, Programme(
        code=code, title=title.strip(), legal_reference=legal_reference.strip(),
        issued_on=issued_on), "monitoring.programme.add", "monitoring_programme",
        {"title": title.strip(), "legal_reference": legal_reference.strip()}, code)


def programme(session: Session, code: str) -> Programme:
    found = repository.programme_by_code(session, code)
    if found is None:
        raise NotFound("no such programme")
    return found


@dataclass(frozen=True)
class NewTask:
    """A task as typed or imported: every principle as text, checked by task_errors."""

    code: str
    work: str  # clear work
    responsible_official: str  # clear person
    deadline: str  # clear time, YYYY-MM-DD
    lead_agency: str  # clear responsibility, with the coordinating agencies
    coordinating_agencies: tuple[str, ...]
    deliverable: str  # clear product
    accepting_official: str  # clear authority: an official...
    accepting_agency: str  # ...or an agency, exactly one of the two


def _deadline(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _person_errors(session: Session, new: NewTask, lead: Agency | None) -> list[FieldError]:
    if not new.responsible_official:
        return [FieldError("responsible_official", "name the responsible official")]
    person = officials.active_official(session, new.responsible_official)
    if person is None or not person.may(Permission.TASKS_REPORT):
        return [FieldError("responsible_official", "no active official has this username")]
    if lead and not repository.member(session, lead.id, new.responsible_official):
        return [FieldError("responsible_official",
                           "the responsible official must belong to the lead agency")]
    return []


def _authority_errors(session: Session, new: NewTask) -> list[FieldError]:
    if bool(new.accepting_official) == bool(new.accepting_agency):
        return [FieldError("accepting_authority",
                           "name exactly one accepting official or accepting agency")]
    if new.accepting_official and officials.active_official(session,
                                                             new.accepting_official) is None:
        return [FieldError("accepting_authority", "no active official has this username")]
    if new.accepting_official == new.responsible_official:
        return [FieldError("accepting_authority",
                           "the responsible official cannot accept their own task")]
    if new.accepting_agency and not repository.agency_by_code(session, new.accepting_agency):
        return [FieldError("accepting_authority", "no such agency")]
    return []


def task_errors(session: Session, scheme: Programme, new: NewTask,
                taken: set[str]) -> list[FieldError]:
    """Every principle missing or wrong, each named by its field; `taken` holds the codes
    already used in the programme (and earlier in the same import)."""
    errors = []
    if not CODE.match(new.code):
        errors.append(FieldError("code", "use up to 30 letters, digits, dots or dashes"))
    elif new.code in taken:
        errors.append(FieldError("code", "the programme has a task with this code already"))
    if not new.work.strip():
        errors.append(FieldError("work", "describe the work"))
    lead = repository.agency_by_code(session, new.lead_agency) if new.lead_agency else None
    if lead is None:
        errors.append(FieldError("lead_agency", "name a known lead agency"))
    errors += _person_errors(session, new, lead)
    deadline = _deadline(new.deadline)
    if deadline is None:
        errors.append(FieldError("deadline", "must be a date written YYYY-MM-DD"))
    elif deadline < scheme.issued_on:
        errors.append(FieldError("deadline", "the deadline is before the programme was issued"))
    for code in new.coordinating_agencies:
        if code == new.lead_agency or repository.agency_by_code(session, code) is None:
            errors.append(FieldError("coordinating_agencies",
                                     "a coordinating agency is unknown or is the lead agency"))
            break
    if not new.deliverable.strip():
        errors.append(FieldError("deliverable", "name the deliverable"))
    return errors + _authority_errors(session, new)


def create_task(session: Session, actor: Actor, programme_code: str, new: NewTask) -> Task:
    actor.require(Permission.TASKS_MANAGE)
    scheme = programme(session, programme_code)
    errors = task_errors(session, scheme, new, repository.task_codes(session, scheme.id))
    if errors:
        raise Invalid.of_fields(errors)
    return _insert_task(session, actor, scheme, new)


def _insert_task(session: Session, actor: Actor, scheme: Programme, new: NewTask) -> Task:
    """A task task_errors found nothing wrong with, within the actor's scope."""
    lead = agency(session, new.lead_agency)
    _require_covers(actor, lead)
    deadline = _deadline(new.deadline)
    assert deadline is not None
    accepting = repository.agency_by_code(session, new.accepting_agency)
    task = Task(programme_id=scheme.id, code=new.code, work=new.work.strip(),
                responsible_official=new.responsible_official, deadline=deadline,
                lead_agency_id=lead.id, coordinating_agencies=list(new.coordinating_agencies),
                deliverable=new.deliverable.strip(),
                accepting_official=new.accepting_official or None,
                accepting_agency_id=accepting.id if accepting else None, state=State.OPEN.value,
                percent=0, created_at=datetime.now(UTC))
    return _added(session, actor, task, "monitoring.task.create", "monitoring_task", {
        "programme": scheme.code, "code": new.code, "deadline": new.deadline,
        "responsible_official": new.responsible_official, "lead_agency": lead.code})


def create_tasks(session: Session, actor: Actor, programme_code: str,
                 rows: list[NewTask]) -> list[Task]:
    """Several tasks at once (an import), all or none: the caller checked them first with
    task_errors."""
    actor.require(Permission.TASKS_MANAGE)
    scheme = programme(session, programme_code)
    return [_insert_task(session, actor, scheme, new) for new in rows]


# --- who may see and act on a task ----------------------------------------------------------

def _is_reporter(session: Session, actor: Actor, task: Task) -> bool:
    if actor.kind != "official" or not actor.may(Permission.TASKS_REPORT):
        return False
    return task.responsible_official == actor.name or \
        repository.member(session, task.lead_agency_id, actor.name) is not None


def _is_authority(session: Session, actor: Actor, task: Task) -> bool:
    if actor.kind != "official":
        return False
    if task.accepting_official is not None:
        return task.accepting_official == actor.name
    return task.accepting_agency_id is not None and \
        repository.member(session, task.accepting_agency_id, actor.name) is not None


FOUR_EYES = N_("You are responsible for this task or handed in its product: another official "
               "of the accepting authority must accept or return it.")


def judges_own_work(session: Session, actor: Actor, task: Task) -> bool:
    """Four eyes (the principle of clear authority): the official responsible for a task, or
    the one who handed its product in, never decides on it, even when they also hold the
    accepting authority (a member of both the lead and the accepting agency, say)."""
    if actor.name == task.responsible_official:
        return True
    handed_in = repository.latest_product(session, task.id)
    return handed_in is not None and handed_in.handed_in_by == str(actor)


def _manages(session: Session, actor: Actor, task: Task) -> bool:
    lead = session.get(Agency, task.lead_agency_id)
    return actor.may(Permission.TASKS_MANAGE) and lead is not None and covers(actor, lead)


def read_task(session: Session, actor: Actor, task_id: int, lock: bool = False) -> Task:
    """The task, for its reporters, its accepting authority and the managers whose scope
    covers its lead agency; others are refused."""
    task = repository.task(session, task_id, lock)
    if task is None:
        raise NotFound("no such task")
    if not (_is_reporter(session, actor, task) or _is_authority(session, actor, task)
            or _manages(session, actor, task)):
        raise Forbidden("this task is neither yours nor within your scope")
    return task


def may_report(session: Session, actor: Actor, task: Task) -> bool:
    return _is_reporter(session, actor, task) and State(task.state) in WORKING


def actions_for(session: Session, actor: Actor, task: Task) -> list[str]:
    """The buttons this official may press on the task now."""
    parties = {Party.REPORTER: _is_reporter(session, actor, task),
               Party.AUTHORITY: _is_authority(session, actor, task)}
    return [t.action for t in TRANSITIONS.values() if t.action != "start"
            and State(task.state) in t.sources and parties[t.party]]


# --- the task's life ------------------------------------------------------------------------

def _move(session: Session, actor: Actor, task: Task, action: str, reason: str,
          day: date) -> None:
    rule = TRANSITIONS[action]
    session.add(TaskEvent(task_id=task.id, action=action, from_state=task.state,
                          to_state=rule.target.value, actor=str(actor), reason=reason, day=day,
                          occurred_at=datetime.now(UTC)))
    _record(session, actor, f"monitoring.task.{action}", "monitoring_task", str(task.id),
            {"from": task.state, "to": rule.target.value, "reason": reason})
    task.state = rule.target.value


def transition(session: Session, actor: Actor, task_id: int, action: str, reason: str = "",
               today: date | None = None, product: HandedIn | None = None,
               checked: bool = False) -> Task:
    """Submit the deliverable with its product (a reporter), accept it once its product is
    `checked` or return it with a reason (only the accepting authority, four eyes)."""
    rule = TRANSITIONS.get(action)
    if rule is None or action == "start":
        raise NotFound("no such action")
    task = read_task(session, actor, task_id, lock=True)
    allowed = _is_reporter(session, actor, task) if rule.party == Party.REPORTER \
        else _is_authority(session, actor, task)
    if not allowed:
        raise Forbidden("only the responsible official or the lead agency submits; only the "
                        "accepting authority accepts or returns")
    if rule.party == Party.AUTHORITY and judges_own_work(session, actor, task):
        raise Forbidden(FOUR_EYES)
    if State(task.state) not in rule.sources:
        raise Conflict("the task is not in a state that allows this")
    if rule.needs_reason and not reason.strip():
        raise Invalid("reason", "give a reason")
    if action == "accept" and not checked:
        raise Invalid("checked", "confirm that you have checked the product")
    day = today or calendar.today()
    if action == "submit":
        _hand_in(session, actor, task, product or HandedIn())
        task.submitted_on = day
    elif action == "accept":
        task.accepted_on, task.percent = day, 100
    _move(session, actor, task, action, reason.strip(), day)
    session.flush()
    return task


@dataclass(frozen=True)
class HandedIn:
    """The product handed in with the deliverable: a file, or a link to where it is
    published."""

    link: str = ""
    file: EvidenceFile | None = None


def _product_link(link: str) -> str:
    address = urlsplit(link)
    if len(link) > MAX_LINK or address.scheme not in ("https", "http") or not address.netloc:
        raise Invalid("product_link", "give the product's address, starting with https://")
    return link


def _hand_in(session: Session, actor: Actor, task: Task, product: HandedIn) -> None:
    """The product kept with who handed it in: a deliverable without one is not handed in."""
    link = product.link.strip()
    if (product.file is None) == (not link):
        raise Invalid("product", "hand in the product: a file or a link to it, not both")
    kept = Product(task_id=task.id, handed_in_by=str(actor), handed_in_at=datetime.now(UTC))
    if product.file is None:
        kept.link = _product_link(link)
    else:
        checked = uploads.check_upload("product", product.file.content, product.file.media_type,
                                       max_bytes=MAX_EVIDENCE_BYTES, words=PRODUCT_WORDS)
        kept.filename = product.file.filename[:200] or "file"
        kept.media_type, kept.content = checked.media_type, checked.content
        kept.size, kept.sha256 = len(checked.content), hashlib.sha256(checked.content).hexdigest()
    session.add(kept)
    session.flush()


def product_file(session: Session, actor: Actor, product_id: int) -> Product:
    found = repository.product(session, product_id)
    if found is None or found.content is None:
        raise NotFound("no such file")
    read_task(session, actor, found.task_id)
    return found


# --- progress updates -------------------------------------------------------------------------

@dataclass(frozen=True)
class EvidenceFile:
    filename: str
    media_type: str
    content: bytes


def _percent(value: str | int) -> int:
    text = str(value).strip()
    if not text.isdigit() or int(text) > 100:
        raise Invalid("percent", "must be a whole number from 0 to 100")
    return int(text)


def _checked_evidence(files: list[EvidenceFile], already: int) -> list[EvidenceFile]:
    """The files as they may be kept (kit/uploads.py: parsed, images encoded again);
    `already` the number the day's earlier updates have."""
    if already + len(files) > MAX_EVIDENCE_FILES:
        raise Invalid("evidence", "at most 5 files per daily update")
    checked = [uploads.check_upload("evidence", upload.content, upload.media_type,
                                    max_bytes=MAX_EVIDENCE_BYTES, words=EVIDENCE_WORDS)
               for upload in files]
    return [EvidenceFile(upload.filename, kept.media_type, kept.content)
            for upload, kept in zip(files, checked, strict=True)]


def post_update(session: Session, actor: Actor, task_id: int, percent: str | int, text: str,
                files: list[EvidenceFile], today: date | None = None) -> ProgressUpdate:
    """A progress update, kept as a new row: a second one the same day (by the same official
    or another) never overwrites the first. Percent never goes below an earlier day's; the
    day's updates share its five files."""
    task = read_task(session, actor, task_id, lock=True)
    if not _is_reporter(session, actor, task):
        raise Forbidden("only the responsible official or the lead agency posts progress")
    if State(task.state) not in WORKING:
        raise Conflict("progress is posted only while the task is being worked on")
    value, day = _percent(percent), today or calendar.today()
    if value < repository.highest_percent_before(session, task.id, day):
        raise Invalid("percent", "progress cannot be lower than an earlier day's")
    if not text.strip():
        raise Invalid("text", "say what was done")
    if len(text) > MAX_TEXT:
        raise Invalid("text", "at most 4000 characters")
    kept = _checked_evidence(files, repository.evidence_count_on(session, task.id, day))
    posted = ProgressUpdate(task_id=task.id, day=day, percent=value, text=text.strip(),
                            posted_by=str(actor), posted_at=datetime.now(UTC))
    session.add(posted)
    session.flush()
    for upload in kept:
        session.add(Evidence(update_id=posted.id, filename=upload.filename[:200] or "file",
                             media_type=upload.media_type, size=len(upload.content),
                             sha256=hashlib.sha256(upload.content).hexdigest(),
                             content=upload.content))
    if task.state == State.OPEN.value:
        _move(session, actor, task, "start", "", day)
    task.percent = value
    _record(session, actor, "monitoring.task.progress", "monitoring_task", str(task.id),
            {"day": day.isoformat(), "percent": value, "files": [f.filename for f in files]})
    session.flush()
    return posted


def evidence_file(session: Session, actor: Actor, evidence_id: int) -> Evidence:
    found = repository.evidence(session, evidence_id)
    posted = repository.update(session, found.update_id) if found else None
    if found is None or posted is None:
        raise NotFound("no such file")
    read_task(session, actor, posted.task_id)
    return found


# --- overdue --------------------------------------------------------------------------------

def is_overdue(task: Task, today: date) -> bool:
    """Late: the deadline has passed and the deliverable is not handed in (a submitted task
    waits on its authority, not on its agency; a returned one is late again)."""
    return State(task.state) in WORKING and task.deadline < today


def days_overdue(task: Task, today: date) -> int:
    """Working days after the deadline, up to today (0 when the deadline was a Friday and
    today is the weekend: late, by no working day yet)."""
    return working_days_between(task.deadline, today) if is_overdue(task, today) else 0


def is_due_soon(task: Task, today: date) -> bool:
    return State(task.state) in WORKING and \
        today <= task.deadline <= add_working_days(today, DUE_SOON_WORKING_DAYS)


def completed_on_time(task: Task) -> bool:
    return task.state == State.ACCEPTED.value and task.submitted_on is not None and \
        task.submitted_on <= task.deadline


def visible_tasks(session: Session, actor: Actor, programme_code: str = "") -> list[Task]:
    """The tasks a manager oversees: those whose lead agency their scope covers."""
    actor.require(Permission.TASKS_MANAGE)
    scheme_id = programme(session, programme_code).id if programme_code else None
    if actor.scope.level == ScopeLevel.WARD:
        return []
    return repository.tasks_led_in(session, actor.scope.province_code, scheme_id)


def my_tasks(session: Session, actor: Actor) -> list[Task]:
    """The tasks an official reports on: theirs, and their agencies'."""
    actor.require(Permission.TASKS_REPORT)
    return repository.tasks_of_reporter(session, actor.name)


# --- reminders ------------------------------------------------------------------------------

def _reminder_body(task: Task, day: date) -> str:
    """In Vietnamese: the officials who receive it work in Vietnamese."""
    standing = f"quá hạn {days_overdue(task, day)} ngày làm việc" if is_overdue(task, day) \
        else "sắp đến hạn"
    return (f"Nhiệm vụ {task.code}: {task.work}\nHạn: {task.deadline:%d/%m/%Y} ({standing})\n"
            f"Tiến độ: {task.percent} %\nSản phẩm: {task.deliverable}")


def remind(session: Session, actor: Actor, today: date | None = None) -> list[Reminder]:
    """One e-mail, through the outbox, to the responsible official of each overdue or soon
    due task in the manager's scope; at most one a day per task."""
    day = today or calendar.today()
    sent = []
    for task in visible_tasks(session, actor):
        if not (is_overdue(task, day) or is_due_soon(task, day)) or \
                repository.reminded_on(session, task.id, day):
            continue
        member = repository.member(session, task.lead_agency_id, task.responsible_official)
        # task_errors made the person a member of the lead agency; memberships stay.
        assert member is not None
        late = days_overdue(task, day)
        outbox.enqueue(session, "email", member.email, f"Nhắc việc {task.code}",
                       _reminder_body(task, day))
        reminder = Reminder(task_id=task.id, day=day, recipient=member.email,
                            sent_by=str(actor))
        session.add(reminder)
        _record(session, actor, "monitoring.task.remind", "monitoring_task", str(task.id),
                {"recipient": member.email, "days_overdue": late})
        sent.append(reminder)
    session.flush()
    return sent
