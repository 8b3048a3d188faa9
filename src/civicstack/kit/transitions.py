"""The shape of a life-cycle table (dossiers, tasks, support tickets): an action moves a record
from one of its source states to a target state, taken by one party, sometimes only with a
reason. Each domain keeps its own table of them, its states and its parties; anything not in
its table is refused there."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S", bound=enum.StrEnum)
P = TypeVar("P", bound=enum.StrEnum)


@dataclass(frozen=True)
class Transition(Generic[S, P]):
    action: str
    sources: frozenset[S]
    target: S
    party: P
    needs_reason: bool = False
