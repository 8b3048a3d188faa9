"""The learning platform's rules: courses and their content (drafted, then published and
frozen), cohorts drawn from the register or a roster, enrolment, lesson progress, the quiz
scored on the server, and completion rates against the 100 % target. docs/learning.md."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicstack.kit import audit, uploads
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Permission, ScopeLevel
from civicstack.kit.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.kit.uploads import Refusal
from civicstack.learning import flows, repository
from civicstack.learning.models import (
    Cohort,
    CohortCourse,
    CohortMember,
    Course,
    Enrolment,
    Lesson,
    LessonDone,
    Question,
    QuizAttempt,
)
from civicstack.registry import service as registry
from civicstack.wallet.site import WalletSite

COURSE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")
PID_FORMAT = re.compile(r"^[0-9]{12}$")
PUBLISHER_KINDS = ("ministry", "province")
LESSON_KINDS = ("text", "video", "file")
COHORT_KINDS = ("students", "officials", "citizens")
# A lesson's file is what a learner's browser opens safely: a PDF, PNG or JPEG, checked by
# kit/uploads.py; the refusals its form has always given, in its own words.
FILE_WORDS = {Refusal.NOT_ALLOWED: N_("send a PDF, PNG or JPEG file"), Refusal.EMPTY: "Required.",
              Refusal.TOO_LARGE: N_("the file is larger than 5 MiB")}
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_OPTIONS = 8
ATTEMPTS_PER_DAY = 3  # quiz submissions per learner and course in any 24 hours
TARGET = 1.0  # every enrolled learner completes: the programme's 100 % target
ROSTER_PURPOSE = "check a learning cohort's roster against the register"


def now() -> datetime:
    return datetime.now(UTC)


def _text(value: str, field_name: str, limit: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise Invalid(field_name, "Required.")
    if len(cleaned) > limit:
        raise Invalid(field_name, "too long")
    return cleaned


def _long_text(value: str, field_name: str, limit: int) -> str:
    """A text whose line breaks matter (a lesson): only its ends are trimmed."""
    cleaned = value.strip().replace("\r\n", "\n")
    if not cleaned:
        raise Invalid(field_name, "Required.")
    if len(cleaned) > limit:
        raise Invalid(field_name, "too long")
    return cleaned


def _audit(session: Session, actor: Actor, action: str, subject_type: str, subject_id: str,
           purpose: str, detail: dict[str, object] | None = None) -> None:
    audit.record(session, actor, action, subject_type=subject_type, subject_id=subject_id,
                 purpose=purpose, detail=detail)


# --- courses --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CourseDraft:
    code: str
    title: str
    summary: str
    publisher_kind: str  # ministry (national) or province
    publisher: str
    province_code: str | None
    pass_mark: int


def may_manage(actor: Actor, course: Course) -> bool:
    """A ministry's course belongs to national officials; a province's to those reaching the
    whole province."""
    if not actor.may(Permission.LEARNING_MANAGE):
        return False
    if course.province_code is None:
        return actor.scope.level == ScopeLevel.NATIONAL
    return actor.scope.covers_province(course.province_code)


def create_course(session: Session, actor: Actor, draft: CourseDraft) -> Course:
    actor.require(Permission.LEARNING_MANAGE)
    code = draft.code.strip().upper()
    if not COURSE_CODE.match(code):
        raise Invalid("code", "use 3 to 40 capital letters, digits and dashes, e.g. ATGT-2026")
    if draft.publisher_kind not in PUBLISHER_KINDS:
        raise Invalid("publisher_kind", "choose a ministry or a province")
    if not 1 <= draft.pass_mark <= 100:
        raise Invalid("pass_mark", "give a pass mark from 1 to 100 percent")
    province_code = draft.province_code if draft.publisher_kind == "province" else None
    if province_code is not None and \
            province_code not in {p.code for p in registry.provinces(session)}:
        raise Invalid("province_code", "choose a province")
    course = Course(code=code, title=_text(draft.title, "title", 200),
                    summary=_long_text(draft.summary, "summary", 4000),
                    publisher_kind=draft.publisher_kind,
                    publisher=_text(draft.publisher, "publisher", 200),
                    province_code=province_code, pass_mark=draft.pass_mark, status="draft",
                    created_at=now(), created_by=str(actor))
    if not may_manage(actor, course):
        raise Forbidden("a ministry's course is made by national officials, a province's by "
                        "officials of that province")
    if repository.course_by_code(session, code) is not None:
        raise Conflict(f"a course with code {code} exists already")
    session.add(course)
    session.flush()
    _audit(session, actor, "learning.course.create", "course", code, "publish a course")
    return course


def course(session: Session, code: str) -> Course:
    found = repository.course_by_code(session, code)
    if found is None:
        raise NotFound(f"no course {code}")
    return found


def visible_course(session: Session, actor: Actor, code: str) -> Course:
    """A course as the console shows it: one of `courses_for` (every ministry's, and a
    province's to the officials of that province)."""
    found = course(session, code)
    if found not in courses_for(session, actor):
        raise Forbidden(f"course {code} belongs to another province")
    return found


def managed_course(session: Session, actor: Actor, code: str, *, lock: bool = False) -> Course:
    actor.require(Permission.LEARNING_MANAGE)
    found = repository.course_by_code(session, code, lock=lock)
    if found is None:
        raise NotFound(f"no course {code}")
    if not may_manage(actor, found):
        raise Forbidden(f"course {code} is managed by its publisher's officials")
    return found


def _draft(session: Session, actor: Actor, code: str) -> Course:
    found = managed_course(session, actor, code, lock=True)
    if found.status != "draft":
        raise Conflict("a published course is frozen: make a new course for new content")
    return found


def courses_for(session: Session, actor: Actor) -> list[Course]:
    """The courses an official sees in the console: every ministry's, and their province's."""
    actor.require(Permission.LEARNING_MANAGE)
    return repository.courses_in_scope(session, actor.scope)


@dataclass(frozen=True)
class Outline:
    course: Course
    lessons: list[Lesson]
    questions: list[Question]


def outline(session: Session, found: Course) -> Outline:
    return Outline(found, repository.lessons(session, found.id),
                   repository.questions(session, found.id))


@dataclass(frozen=True)
class LessonDraft:
    kind: str
    title: str
    body: str = ""
    video_url: str = ""
    file_name: str = ""
    file_type: str = ""
    file_content: bytes = b""


def _https_url(url: str) -> str:
    cleaned = url.strip()
    parts = urlsplit(cleaned)
    if parts.scheme != "https" or not parts.hostname or len(cleaned) > 500 or \
            any(c <= " " for c in cleaned):
        raise Invalid("video_url", "give the video's https:// address")
    return cleaned


# A list of results is not a lesson: the learner would have to pick a video of unknown source.
# Video sites and search engines put results under these paths and search words in these
# parameters (YouTube's /results?search_query=, Google's /search?q=, Cốc Cốc's ?query=).
SEARCH_PATHS = ("/results", "/search")
SEARCH_PARAMETERS = frozenset({"search_query", "q", "query"})


def _video_url(url: str) -> str:
    """The https:// address of the video itself, never of a search for it."""
    cleaned = _https_url(url)
    parts = urlsplit(cleaned)
    if parts.path.rstrip("/").lower().endswith(SEARCH_PATHS) or \
            SEARCH_PARAMETERS & parse_qs(parts.query).keys():
        raise Invalid("video_url", "give the address of the video itself, not of a search for it")
    return cleaned


def _checked_file(draft: LessonDraft) -> tuple[str, str, bytes]:
    checked = uploads.check_upload("file", draft.file_content, draft.file_type,
                                   max_bytes=MAX_FILE_BYTES, words=FILE_WORDS)
    name = draft.file_name.replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
    return name or "lesson", checked.media_type, checked.content


def add_lesson(session: Session, actor: Actor, code: str, draft: LessonDraft) -> Lesson:
    found = _draft(session, actor, code)
    if draft.kind not in LESSON_KINDS:
        raise Invalid("kind", "choose text, video link or file")
    lesson = Lesson(course_id=found.id, kind=draft.kind, title=_text(draft.title, "title", 200),
                    body=draft.body.strip())
    if draft.kind == "text":
        lesson.body = _long_text(draft.body, "body", 20000)
    elif draft.kind == "video":
        lesson.video_url = _video_url(draft.video_url)
    else:
        lesson.file_name, lesson.file_type, lesson.file_content = _checked_file(draft)
    lesson.position = repository.next_position(session, Lesson, found.id)
    session.add(lesson)
    session.flush()
    _audit(session, actor, "learning.lesson.add", "course", found.code, "write a course",
           {"position": lesson.position, "kind": lesson.kind})
    return lesson


def add_question(session: Session, actor: Actor, code: str, prompt: str, options: list[str],
                 correct: list[int]) -> Question:
    """A quiz question: two to eight options, one or several of them right."""
    found = _draft(session, actor, code)
    listed = [" ".join(option.split()) for option in options if option.strip()]
    if not 2 <= len(listed) <= MAX_OPTIONS:
        raise Invalid("options", "give two to eight options")
    right = sorted(set(correct))
    if not right or any(not 0 <= index < len(listed) for index in right):
        raise Invalid("correct", "mark at least one of the options as right")
    question = Question(course_id=found.id, prompt=_text(prompt, "prompt", 1000),
                        options=listed, correct=right,
                        position=repository.next_position(session, Question, found.id))
    session.add(question)
    session.flush()
    _audit(session, actor, "learning.question.add", "course", found.code, "write a course",
           {"position": question.position})
    return question


def publish(session: Session, actor: Actor, code: str) -> Course:
    found = _draft(session, actor, code)
    if not repository.lessons(session, found.id):
        raise Conflict("a course needs at least one lesson before it is published")
    if not repository.questions(session, found.id):
        raise Conflict("a course needs a quiz of at least one question before it is published")
    found.status, found.published_at = "published", now()
    _audit(session, actor, "learning.course.publish", "course", found.code, "publish a course")
    return found


# --- cohorts --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CohortSpec:
    name: str
    kind: str
    province_code: str
    ward_code: str | None = None
    school: str | None = None


def _checked_place(session: Session, actor: Actor, spec: CohortSpec) -> None:
    if spec.kind not in COHORT_KINDS:
        raise Invalid("kind", "choose students, officials or citizens")
    if spec.ward_code:
        place = registry.ward(session, spec.ward_code)
        if place is None or place.province_code != spec.province_code:
            raise Invalid("ward_code", "choose a ward of the cohort's province")
    elif spec.province_code not in {p.code for p in registry.provinces(session)}:
        raise Invalid("province_code", "choose a province")
    if not actor.may_see(spec.province_code, spec.ward_code or None):
        raise Forbidden(f"this place is outside your scope ({actor.scope})")


def _new_cohort(session: Session, actor: Actor, spec: CohortSpec, source: str,
                members: list[str], rule: dict[str, object] | None = None) -> Cohort:
    cohort = Cohort(name=_text(spec.name, "name", 200), kind=spec.kind,
                    province_code=spec.province_code, ward_code=spec.ward_code or None,
                    school=" ".join((spec.school or "").split()) or None, source=source,
                    rule=rule, created_at=now(), created_by=str(actor))
    session.add(cohort)
    session.flush()
    session.add_all(CohortMember(cohort_id=cohort.id, personal_id_number=number)
                    for number in members)
    session.flush()
    _audit(session, actor, "learning.cohort.create", "cohort", str(cohort.id),
           "form a learning cohort", {"source": source, "members": len(members)})
    return cohort


def create_cohort_by_age(session: Session, actor: Actor, spec: CohortSpec, min_age: int,
                         max_age: int, on: date | None = None) -> Cohort:
    """Everyone living in the place aged `min_age` to `max_age` (e.g. 6-18, the pupils of a
    province), taken from the register on the day it is formed."""
    actor.require(Permission.LEARNING_MANAGE)
    _checked_place(session, actor, spec)
    members = registry.living_residents_aged(
        session, actor, "enrol a learning cohort drawn from the register", spec.province_code,
        spec.ward_code or None, min_age, max_age, on or date.today())
    return _new_cohort(session, actor, spec, "rule", members,
                       {"min_age": min_age, "max_age": max_age})


@dataclass(frozen=True)
class BadRow:
    line: int
    value: str
    reason: str


@dataclass(frozen=True)
class RosterReport:
    cohort: Cohort
    members: int
    bad_rows: list[BadRow] = field(default_factory=list)


def _roster_numbers(text: str) -> list[tuple[int, str]]:
    """(line, first cell) of each non-empty row; a header row naming the column is skipped."""
    rows = []
    for line, cells in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
        value = cells[0].strip() if cells else ""
        if value and not (line == 1 and not value.isdigit()):
            rows.append((line, value))
    return rows


def create_cohort_from_roster(session: Session, actor: Actor, spec: CohortSpec,
                              roster: str) -> RosterReport:
    """A cohort of the people a roster names (a CSV whose first column is the personal ID
    number): each bad row is reported with its reason and left out; a roster without one
    good row makes no cohort."""
    actor.require(Permission.LEARNING_MANAGE)
    _checked_place(session, actor, spec)
    rows = _roster_numbers(roster)
    well_formed = [number for _, number in rows if PID_FORMAT.match(number)]
    living = registry.living_in_scope(session, actor, well_formed, ROSTER_PURPOSE)
    members: list[str] = []
    bad: list[BadRow] = []
    for line, number in rows:
        reason = _roster_problem(number, living, members)
        if reason:
            bad.append(BadRow(line, number[:40], reason))
        else:
            members.append(number)
    if not members:
        raise Invalid("roster", "no row names a living person within your scope")
    return RosterReport(_new_cohort(session, actor, spec, "roster", members), len(members), bad)


def _roster_problem(number: str, living: set[str], taken: list[str]) -> str | None:
    if not PID_FORMAT.match(number):
        return N_("not a 12-digit personal ID number")
    if number not in living:
        return N_("no living person with this ID number within your scope")
    if number in taken:
        return N_("listed twice")
    return None


def cohorts_for(session: Session, actor: Actor) -> list[Cohort]:
    actor.require(Permission.LEARNING_MANAGE)
    return repository.cohorts_in_scope(session, actor.scope)


def managed_cohort(session: Session, actor: Actor, cohort_id: int) -> Cohort:
    actor.require(Permission.LEARNING_MANAGE)
    found = repository.cohort(session, cohort_id)
    if found is None:
        raise NotFound(f"no cohort {cohort_id}")
    if not actor.may_see(found.province_code, found.ward_code):
        raise Forbidden(f"this cohort is outside your scope ({actor.scope})")
    return found


def cohort_members(session: Session, found: Cohort) -> list[str]:
    return repository.cohort_members(session, found.id)


def takes(chosen: Course, cohort: Cohort) -> bool:
    """Whether the course may take the cohort: a ministry's takes any, a province's only that
    province's cohorts."""
    return chosen.province_code in (None, cohort.province_code)


@dataclass(frozen=True)
class EnrolReport:
    enrolled: int  # new enrolments
    already: int  # members already enrolled (by this or another cohort): left as they were


def enrol_cohort(session: Session, actor: Actor, cohort_id: int, code: str) -> EnrolReport:
    """Enrol every member of the cohort in a published course, each learner once: members
    already enrolled keep their progress. A province's course takes that province's cohorts."""
    found = managed_cohort(session, actor, cohort_id)
    chosen = course(session, code)
    if chosen.status != "published":
        raise Conflict("only a published course takes learners")
    if not takes(chosen, found):
        raise Conflict("a province's course takes only cohorts of that province")
    if repository.cohort_course(session, found.id, chosen.id) is None:
        session.add(CohortCourse(cohort_id=found.id, course_id=chosen.id, enrolled_at=now(),
                                 enrolled_by=str(actor)))
    members = repository.cohort_members(session, found.id)
    already = repository.enrolled_numbers(session, chosen.id, members)
    moment = now()
    session.add_all(Enrolment(course_id=chosen.id, personal_id_number=number,
                              province_code=found.province_code, enrolled_at=moment)
                    for number in members if number not in already)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # another enrolment of the same learners committed first
        raise Conflict("these learners were being enrolled at the same moment: try again") \
            from exc
    report = EnrolReport(len(members) - len(already), len(already))
    _audit(session, actor, "learning.cohort.enrol", "cohort", str(found.id),
           "enrol a cohort in a course", {"course": chosen.code, "enrolled": report.enrolled,
                                          "already": report.already})
    return report


# --- learners -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    """A learner's view of one course: where they are, and what the quiz needs."""

    course: Course
    enrolment: Enrolment
    lessons: list[Lesson]
    done: set[int]  # lesson ids
    questions: list[Question]

    @property
    def lessons_finished(self) -> bool:
        return all(lesson.id in self.done for lesson in self.lessons)

    @property
    def percent(self) -> int:
        return 100 * len(self.done) // len(self.lessons) if self.lessons else 100


def my_courses(session: Session, personal_id_number: str) -> list[tuple[Enrolment, Course]]:
    return [(e, c) for e, c in repository.enrolments_of(session, personal_id_number)
            if c.status == "published"]


def progress(session: Session, personal_id_number: str, code: str, *,
             lock: bool = False) -> Progress:
    """The course as its enrolled learner sees it; anyone else is told it is not theirs."""
    found = repository.course_by_code(session, code)
    enrolment = repository.enrolment(session, found.id, personal_id_number, lock=lock) \
        if found is not None and found.status == "published" else None
    if found is None or enrolment is None:
        raise NotFound("you are not enrolled in this course")
    return Progress(found, enrolment, repository.lessons(session, found.id),
                    repository.lessons_done(session, enrolment.id),
                    repository.questions(session, found.id))


def lesson_at(found: Progress, position: int) -> Lesson:
    for lesson in found.lessons:
        if lesson.position == position:
            return lesson
    raise NotFound("this course has no such lesson")


def mark_lesson_done(session: Session, actor: Actor, personal_id_number: str, code: str,
                     position: int) -> Progress:
    """The learner confirms they have gone through the lesson; confirming twice changes
    nothing."""
    found = progress(session, personal_id_number, code, lock=True)
    lesson = lesson_at(found, position)
    if lesson.id not in found.done:
        session.add(LessonDone(enrolment_id=found.enrolment.id, lesson_id=lesson.id,
                               done_at=now()))
        session.flush()
        found.done.add(lesson.id)
        _audit(session, actor, "learning.lesson.done", "person", personal_id_number,
               "record a learner's progress", {"course": code, "lesson": position})
    return found


def score(questions: list[Question], answers: dict[int, list[int]]) -> int:
    """How many questions are answered right: a question is right only when the set of
    options chosen is exactly the set of right ones (so ticking every box earns nothing)."""
    return sum(1 for question in questions
               if sorted(set(answers.get(question.position, []))) == question.correct)


def passes(correct: int, total: int, pass_mark: int) -> bool:
    """Whether correct/total reaches the pass mark, compared exactly (no rounding)."""
    return total > 0 and 100 * correct >= pass_mark * total


def _checked_answers(questions: list[Question],
                     answers: dict[int, list[int]]) -> dict[int, list[int]]:
    errors = [FieldError(f"q{position}", "not an option of this question")
              for question in questions for position in [question.position]
              if any(not 0 <= i < len(question.options) for i in answers.get(position, []))]
    known = {question.position for question in questions}
    errors += [FieldError(f"q{position}", "not a question of this quiz")
               for position in answers if position not in known]
    if errors:
        raise Invalid.of_fields(errors)
    return {position: sorted(set(chosen)) for position, chosen in answers.items()}


def submit_quiz(session: Session, site: WalletSite, actor: Actor, personal_id_number: str,
                code: str, answers: dict[int, list[int]]) -> QuizAttempt:
    """Score an attempt on the server. The first pass completes the course and puts the
    certificate in the wallet; later attempts are recorded but never issue a second one."""
    found = progress(session, personal_id_number, code, lock=True)
    if not found.lessons_finished:
        raise Conflict("go through every lesson before the quiz")
    moment = now()
    if repository.attempts_since(session, found.enrolment.id,
                                 moment - timedelta(days=1)) >= ATTEMPTS_PER_DAY:
        raise Conflict("three attempts in 24 hours are the most; try again tomorrow")
    chosen = _checked_answers(found.questions, answers)
    correct, total = score(found.questions, chosen), len(found.questions)
    attempt = QuizAttempt(enrolment_id=found.enrolment.id,
                          answers={str(k): v for k, v in sorted(chosen.items())},
                          correct=correct, total=total, score=100 * correct // total,
                          passed=passes(correct, total, found.course.pass_mark),
                          submitted_at=moment)
    session.add(attempt)
    session.flush()
    _audit(session, actor, "learning.quiz.submit", "person", personal_id_number,
           "score a learner's quiz", {"course": code, "score": attempt.score,
                                      "passed": attempt.passed})
    if attempt.passed and found.enrolment.completed_at is None:
        flows.on_completed(session, site, found.enrolment, found.course, attempt.score)
    return attempt


def latest_attempt(session: Session, enrolment: Enrolment) -> QuizAttempt | None:
    return repository.latest_attempt(session, enrolment.id)


# --- completion rates -----------------------------------------------------------------------

@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    enrolled: int
    completed: int

    @property
    def rate(self) -> float | None:
        return self.completed / self.enrolled if self.enrolled else None

    @property
    def meets_target(self) -> bool:
        return self.enrolled > 0 and self.completed >= TARGET * self.enrolled


@dataclass(frozen=True)
class Rates:
    by_province: list[Rate]
    by_school: list[Rate]
    by_cohort: list[Rate]


def _course_id(session: Session, code: str | None) -> int | None:
    return course(session, code).id if code else None


def completion_rates(session: Session, actor: Actor, code: str | None = None) -> Rates:
    """Completed / enrolled per learner's province, per school and per cohort, within the
    official's scope (a ward-scoped official sees their ward's cohorts only)."""
    actor.require(Permission.LEARNING_MANAGE)
    course_id = _course_id(session, code)
    scope = actor.scope
    names = {p.code: p.name for p in registry.provinces(session)}
    provinces = [] if scope.level == ScopeLevel.WARD else \
        repository.tally_by_province(session, course_id, scope.province_code)
    cohorts = {str(c.id): c.name for c in repository.cohorts_in_scope(session, scope)}
    return Rates(
        [Rate(t.key, names.get(t.key, t.key), t.enrolled, t.completed) for t in provinces],
        [Rate(t.key, t.key, t.enrolled, t.completed)
         for t in repository.tally_by_school(session, course_id, scope)],
        sorted((Rate(t.key, cohorts.get(t.key, t.key), t.enrolled, t.completed)
                for t in repository.tally_by_cohort(session, course_id, scope)),
               key=lambda rate: rate.label))


def public_rates(session: Session, code: str | None = None) -> list[Rate]:
    """The national figures anyone may read: counts per province, no person and no cohort."""
    names = {p.code: p.name for p in registry.provinces(session)}
    return [Rate(t.key, names.get(t.key, t.key), t.enrolled, t.completed)
            for t in repository.tally_by_province(session, _course_id(session, code), None)]


def published_courses(session: Session) -> list[Course]:
    return [c for c in repository.courses_in_scope(session, NATIONAL)
            if c.status == "published"]

