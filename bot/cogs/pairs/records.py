"""Coffee pairs: who was introduced to whom in a round, their answers, and what the use cases
report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Answer(StrEnum):
    """A member's answer to "did you meet?"."""

    YES = "yes"
    NO = "no"


@dataclass(frozen=True)
class Pair:
    """Two (or three) members introduced in one round; answers are "yes"/"no" per member."""

    id: int
    group_id: str
    round: str
    members: tuple[str, ...]
    created_at: datetime
    notified: bool = False
    asked: bool = False
    answers: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Joined:
    """A member opted in; whether they have a profile their pair can read."""

    weeks: int
    has_profile: bool


@dataclass(frozen=True)
class Status:
    """Whether a member is in, how many are, and the member's latest pair (the others' names)."""

    opted_in: bool
    count: int
    weeks: int
    last_round: str | None = None
    last_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoundStats:
    """One round for staff: pairs, people, pairs where someone said they met, the answers."""

    round: str
    pairs: int
    people: int
    met: int
    yes: int
    no: int

    @property
    def silent(self) -> int:
        """Members who did not answer."""
        return self.people - self.yes - self.no


@dataclass(frozen=True)
class Stats:
    """Members in now and the latest rounds, oldest first."""

    opted_in: int
    rounds: tuple[RoundStats, ...]


@dataclass(frozen=True)
class Round:
    """What a round did: its pairs (stored before anyone was told) and who sat out."""

    period: str
    pairs: tuple[Pair, ...] = ()
    sitting_out: tuple[str, ...] = ()
