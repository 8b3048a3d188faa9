"""A course completed: the enrolment is closed with its score, the certificate goes into the
learner's wallet (issued by the platform under the wallet's `course_certificate` type) and the
learner is told by SMS where the register holds a phone number."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from civicstack.kit import outbox
from civicstack.kit.audit import Actor
from civicstack.kit.calendar import day_of
from civicstack.learning.models import Course, Enrolment
from civicstack.registry import service as registry
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WalletSite

CERTIFICATE = "course_certificate"
PLATFORM = Actor("issuer", "binh-dan-hoc-vu-so")  # the wallet issuer seeded for certificates
NOTICE = "Chuc mung ban da hoan thanh khoa hoc {code}. Chung nhan da co trong vi giay to."


def on_completed(session: Session, site: WalletSite, enrolment: Enrolment, course: Course,
                 score: int) -> None:
    """Runs once per enrolment (the caller checks it is not completed yet)."""
    moment = datetime.now(UTC)
    completed_on = day_of(moment).isoformat()  # the learner's day
    learner = registry.get_person(session, PLATFORM, enrolment.personal_id_number,
                                  "issue a course completion certificate")
    issued = wallet.issue_credential(session, site, PLATFORM, CERTIFICATE,
                                     learner.personal_id_number, {
                                         "personal_id_number": learner.personal_id_number,
                                         "full_name": learner.full_name,
                                         "date_of_birth": learner.date_of_birth.isoformat(),
                                         "course_title": course.title,
                                         "publisher": course.publisher,
                                         "completed_on": completed_on,
                                         "score": score})
    enrolment.completed_at, enrolment.score = moment, score
    enrolment.certificate_id = issued.credential.public_id
    if learner.phone:
        outbox.enqueue(session, "sms", learner.phone, "CivicStack",
                       NOTICE.format(code=course.code))
