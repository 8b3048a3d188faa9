"""Service levels: first-response and resolution targets per topic, in working days
(kit/calendar: Vietnam's working week and holidays), counted from the day a ticket is opened
in Vietnam time. A target is missed once its due day has ended."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from civicstack.kit.calendar import add_working_days, day_of
from civicstack.support.models import SupportTicket
from civicstack.support.states import State, Topic


class Target(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class Targets:
    first_response_days: int
    resolution_days: int


TARGETS = {
    Topic.ACCOUNT: Targets(1, 3),  # a citizen locked out of their eID cannot wait
    Topic.DOCUMENTS: Targets(1, 5),
    Topic.DOSSIER: Targets(1, 5),
    Topic.DATA_READ: Targets(2, 10),  # auditors ask whoever read the data first
    Topic.OTHER: Targets(2, 7),
}
MAX_LEVEL = 2  # 1: the queue's lead, 2: the national support lead


def first_response_due(topic: str, opened_at: datetime) -> date:
    return add_working_days(day_of(opened_at), TARGETS[Topic(topic)].first_response_days)


def resolution_due(topic: str, from_moment: datetime) -> date:
    return add_working_days(day_of(from_moment), TARGETS[Topic(topic)].resolution_days)


def breaches(ticket: SupportTicket, now: datetime) -> list[tuple[Target, date]]:
    """The targets this ticket has missed by `now`, each with the due day it missed: a first
    response never given, or a ticket still waiting for officials after its resolution day."""
    today, missed = day_of(now), []
    if ticket.state == State.CLOSED:
        return []
    if ticket.first_response_at is None and today > ticket.first_response_due:
        missed.append((Target.FIRST_RESPONSE, ticket.first_response_due))
    if ticket.state != State.ANSWERED and today > ticket.resolution_due:
        missed.append((Target.RESOLUTION, ticket.resolution_due))
    return missed


def is_late(ticket: SupportTicket, now: datetime) -> bool:
    return bool(breaches(ticket, now))
