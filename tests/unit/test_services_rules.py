"""Working days with Vietnam's holidays, and the dossier state machine's table."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicstack.kit import calendar
from civicstack.services.states import FINAL, TRANSITIONS, Party, State, allowed_actions


@pytest.mark.parametrize(("day", "working"), [
    (date(2026, 12, 1), True),  # a Tuesday
    (date(2026, 12, 5), False),  # Saturday
    (date(2026, 2, 17), False),  # Tết
    (date(2026, 4, 30), False),  # Reunification Day
    (date(2026, 9, 2), False),  # National Day
    (date(2026, 4, 27), False),  # Hùng Kings' day, observed on Monday
])
def test_weekends_and_public_holidays_are_not_working_days(day: date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


def test_a_deadline_skips_weekends_and_tet() -> None:
    assert calendar.add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Fri -> Mon
    # Received on Friday 13 Feb 2026: Tết closes 16-20 Feb, so three working days end 25 Feb.
    assert calendar.add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)
    assert calendar.working_days_between(date(2026, 2, 13), date(2026, 2, 25)) == 3
    assert calendar.working_days_between(date(2026, 2, 25), date(2026, 2, 13)) == -3


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
       st.integers(0, 40))
def test_adding_n_working_days_lands_on_a_working_day_n_working_days_later(
        start: date, days: int) -> None:
    due = calendar.add_working_days(start, days)
    assert calendar.working_days_between(start, due) == days
    assert days == 0 or calendar.is_working_day(due)


def test_final_states_allow_nothing_and_every_state_is_reachable() -> None:
    for state in FINAL:
        assert all(allowed_actions(state, party) == [] for party in Party)
    reachable, frontier = {State.DRAFT}, [State.DRAFT]
    while frontier:
        state = frontier.pop()
        for rule in TRANSITIONS.values():
            if state in rule.sources and rule.target not in reachable:
                reachable.add(rule.target)
                frontier.append(rule.target)
    assert reachable == set(State)


def test_the_applicant_cannot_decide_and_officials_cannot_submit() -> None:
    assert allowed_actions(State.DRAFT, Party.APPLICANT) == ["submit", "withdraw"]
    assert allowed_actions(State.IN_PROCESSING, Party.DECIDER) == ["approve", "refuse"]
    assert "approve" not in allowed_actions(State.IN_PROCESSING, Party.APPLICANT)
    assert allowed_actions(State.DRAFT, Party.OFFICIAL) == []
