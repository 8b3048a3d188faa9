"""A dossier's life as one table: which action moves it from which state to which, and who
may take it. Anything not in the table is refused, so an illegal transition cannot happen."""

from __future__ import annotations

import enum

from civicstack.kit import transitions as kit_transitions


class State(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"
    IN_PROCESSING = "in_processing"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    SUPPLEMENTED = "supplemented"
    APPROVED = "approved"
    REFUSED = "refused"
    RESULT_DELIVERED = "result_delivered"
    WITHDRAWN = "withdrawn"


class Party(enum.StrEnum):
    APPLICANT = "applicant"  # the citizen (or a clerk at the counter, on their behalf)
    OFFICIAL = "official"  # receives, assigns, asks for more
    DECIDER = "decider"  # the competent agency's official: approves or refuses
    SYSTEM = "system"  # delivery of a signed result


Transition = kit_transitions.Transition[State, Party]

OPEN = frozenset({State.SUBMITTED, State.RECEIVED, State.IN_PROCESSING,
                  State.SUPPLEMENT_REQUESTED, State.SUPPLEMENTED})

TRANSITIONS = {t.action: t for t in (
    Transition("submit", frozenset({State.DRAFT}), State.SUBMITTED, Party.APPLICANT),
    Transition("receive", frozenset({State.SUBMITTED}), State.RECEIVED, Party.OFFICIAL),
    Transition("start", frozenset({State.RECEIVED, State.SUPPLEMENTED}), State.IN_PROCESSING,
               Party.OFFICIAL),
    Transition("request_supplement", frozenset({State.RECEIVED, State.IN_PROCESSING}),
               State.SUPPLEMENT_REQUESTED, Party.OFFICIAL, needs_reason=True),
    Transition("supplement", frozenset({State.SUPPLEMENT_REQUESTED}), State.SUPPLEMENTED,
               Party.APPLICANT),
    Transition("approve", frozenset({State.IN_PROCESSING}), State.APPROVED, Party.DECIDER,
               needs_reason=True),
    Transition("refuse", frozenset({State.RECEIVED, State.IN_PROCESSING}), State.REFUSED,
               Party.DECIDER, needs_reason=True),
    Transition("deliver", frozenset({State.APPROVED}), State.RESULT_DELIVERED, Party.SYSTEM),
    Transition("withdraw", frozenset({State.DRAFT}) | OPEN, State.WITHDRAWN, Party.APPLICANT,
               needs_reason=True),
    # The applicant died: nobody is left to supplement, receive or be given the result.
    Transition("lapse", frozenset({State.DRAFT}) | OPEN, State.REFUSED, Party.SYSTEM,
               needs_reason=True),
)}

FINAL = frozenset({State.REFUSED, State.RESULT_DELIVERED, State.WITHDRAWN})


def allowed_actions(state: State, party: Party) -> list[str]:
    """What this party may do next, for the pages' buttons."""
    return [t.action for t in TRANSITIONS.values() if state in t.sources and t.party == party]
