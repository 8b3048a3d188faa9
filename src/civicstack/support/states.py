"""A ticket's life as one table: which action moves it from which state to which, and who
may take it. Anything not in the table is refused. Escalation is a level beside the state."""

from __future__ import annotations

import enum

from civicstack.kit import transitions as kit_transitions


class Topic(enum.StrEnum):
    ACCOUNT = "account"
    DOCUMENTS = "documents"
    DOSSIER = "dossier"
    DATA_READ = "data_read"  # a use of my data I do not recognise: auditors answer
    OTHER = "other"


class State(enum.StrEnum):
    OPEN = "open"  # waiting for an official
    ASSIGNED = "assigned"  # an official took it
    ANSWERED = "answered"  # an official answered; the citizen may reply or close
    CLOSED = "closed"  # the citizen may reopen it for a few days


class Party(enum.StrEnum):
    CITIZEN = "citizen"
    OFFICIAL = "official"


Transition = kit_transitions.Transition[State, Party]

NOT_CLOSED = frozenset({State.OPEN, State.ASSIGNED, State.ANSWERED})

TRANSITIONS = {(t.action, t.party): t for t in (
    Transition("assign", NOT_CLOSED, State.ASSIGNED, Party.OFFICIAL),
    Transition("answer", NOT_CLOSED, State.ANSWERED, Party.OFFICIAL),
    Transition("close", NOT_CLOSED, State.CLOSED, Party.OFFICIAL),
    # The citizen's reply puts the ticket back in the officials' hands.
    Transition("reply", NOT_CLOSED, State.OPEN, Party.CITIZEN),
    Transition("close", NOT_CLOSED, State.CLOSED, Party.CITIZEN),
    Transition("reopen", frozenset({State.CLOSED}), State.OPEN, Party.CITIZEN),
)}


def transition(action: str, party: Party) -> Transition:
    return TRANSITIONS[(action, party)]


def allowed_actions(state: State, party: Party) -> list[str]:
    """What this party may do next, for the pages' buttons."""
    return [t.action for t in TRANSITIONS.values() if state in t.sources and t.party == party]
