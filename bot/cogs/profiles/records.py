"""Profiles: what a member wrote about themself, and how one viewer sees it."""

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
class ProfileView:
    """A member's profile as one viewer may see it: the email only when it is their own."""

    user_id: str
    name: str
    profile: Profile | None
    # Private: the email the platform gave us, set only when the viewer is its owner.
    email: str | None = None
    # The member's roles as the group names them ("Fashion 2026"), where the view shows them.
    roles: tuple[str, ...] = ()
    own: bool = False


@dataclass(frozen=True)
class Hit:
    """A member whose name, cohort or profile matched a search (a member may have no profile)."""

    name: str
    profile: Profile | None
    cohort: str | None = None


@dataclass(frozen=True)
class UpdatePosted:
    """A career update posted in #showcase (the channel's name now) and kept on the profile."""

    channel_name: str
    profile: Profile
    channel_id: str | None = None
