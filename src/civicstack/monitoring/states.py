"""A task's life as one table: which action moves it from which state to which, and which
party takes it. Anything not in the table is refused."""

from __future__ import annotations

import enum

from civicstack.kit import transitions as kit_transitions


class State(enum.StrEnum):
    OPEN = "open"  # assigned, no progress posted yet
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"  # the deliverable is handed in, waiting for the authority
    ACCEPTED = "accepted"
    RETURNED = "returned"  # the authority sent the deliverable back, with a reason


class Party(enum.StrEnum):
    REPORTER = "reporter"  # the responsible official or a member of the lead agency
    AUTHORITY = "authority"  # the accepting official, or a member of the accepting agency


Transition = kit_transitions.Transition[State, Party]

TRANSITIONS = {t.action: t for t in (
    # Taken by the first progress update, not by a button.
    Transition("start", frozenset({State.OPEN}), State.IN_PROGRESS, Party.REPORTER),
    Transition("submit", frozenset({State.OPEN, State.IN_PROGRESS, State.RETURNED}),
               State.SUBMITTED, Party.REPORTER),
    Transition("accept", frozenset({State.SUBMITTED}), State.ACCEPTED, Party.AUTHORITY),
    Transition("return", frozenset({State.SUBMITTED}), State.RETURNED, Party.AUTHORITY,
               needs_reason=True),
)}

# Progress is still being made: updates are taken, and the deadline can pass.
WORKING = frozenset({State.OPEN, State.IN_PROGRESS, State.RETURNED})
BUTTONS = ("submit", "accept", "return")  # "start" happens with the first update
