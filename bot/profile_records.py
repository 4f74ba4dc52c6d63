"""Records of the profiles, coffee pairs and privacy features."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Profile:
    """A member's own profile: free-text fields they filled in, and their career updates."""

    group_id: str
    user_id: str
    updated_at: datetime
    fields: dict[str, Any] = field(default_factory=dict, hash=False)


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
