"""Profiles and coffee pairs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from bot.cogs.pairs.records import Pair
from bot.cogs.profiles.records import Profile
from storage.models import PairOptInRow, PairRow, ProfileRow
from storage.repositories.base import Repository, _count


class SqlProfileRepository(Repository):
    """One row per member; the fields are a JSON object the cog validates."""

    async def get(self, group_id: str, user_id: str) -> Profile | None:
        """One member's profile."""
        row = await self.session.get(ProfileRow, (group_id, user_id))
        return _profile(row) if row else None

    async def save(self, profile: Profile) -> None:
        """Insert or replace a profile."""
        row = await self.session.get(ProfileRow, (profile.group_id, profile.user_id))
        if row is None:
            row = ProfileRow(group_id=profile.group_id, user_id=profile.user_id)
            self.session.add(row)
        row.fields = dict(profile.fields)
        row.updated_at = profile.updated_at
        await self.session.flush()

    async def for_group(self, group_id: str) -> list[Profile]:
        """Every profile of a group."""
        rows = await self.session.scalars(
            select(ProfileRow).where(ProfileRow.group_id == group_id).order_by(ProfileRow.user_id)
        )
        return [_profile(r) for r in rows]


def _profile(row: ProfileRow) -> Profile:
    return Profile(row.group_id, row.user_id, row.updated_at, dict(row.fields or {}))


def _pair(row: PairRow) -> Pair:
    ids: dict[str, Any] = dict(row.user_ids or {})
    answers: dict[str, Any] = dict(row.answers or {})
    return Pair(
        id=row.id,
        group_id=row.group_id,
        round=row.round,
        members=tuple(ids.get("members", ())),
        created_at=row.created_at,
        notified=bool(ids.get("notified", False)),
        asked=bool(answers.get("asked", False)),
        answers={str(k): str(v) for k, v in dict(answers.get("replies", {})).items()},
    )


class SqlPairRepository(Repository):
    """Opt-ins, and pairs stored per round (the round key makes a round's pairing idempotent)."""

    async def opt_in(self, group_id: str, user_id: str, now: datetime) -> bool:
        """Record an opt-in; False if the member was already in."""
        result = await self.session.execute(
            self.insert_ignore(PairOptInRow)
            .values(group_id=group_id, user_id=user_id, joined_at=now)
            .on_conflict_do_nothing()
        )
        return _count(result)

    async def opt_out(self, group_id: str, user_id: str) -> bool:
        """Remove an opt-in; False if the member was not in."""
        result = await self.session.execute(
            delete(PairOptInRow).where(
                PairOptInRow.group_id == group_id, PairOptInRow.user_id == user_id
            )
        )
        return _count(result)

    async def opted_in(self, group_id: str) -> list[str]:
        """User ids of members who opted in, in a stable order."""
        rows = await self.session.scalars(
            select(PairOptInRow.user_id)
            .where(PairOptInRow.group_id == group_id)
            .order_by(PairOptInRow.user_id)
        )
        return list(rows)

    async def in_round(self, group_id: str, round_key: str) -> list[Pair]:
        """The pairs of one round."""
        rows = await self.session.scalars(
            select(PairRow)
            .where(PairRow.group_id == group_id, PairRow.round == round_key)
            .order_by(PairRow.id)
        )
        return [_pair(r) for r in rows]

    async def add_round(
        self, group_id: str, round_key: str, groups: list[tuple[str, ...]], now: datetime
    ) -> list[Pair]:
        """Store a round's pairs unless the round already has pairs (then return those)."""
        existing = await self.in_round(group_id, round_key)
        if existing:
            return existing
        for members in groups:
            self.session.add(
                PairRow(
                    group_id=group_id,
                    round=round_key,
                    user_ids={"members": list(members), "notified": False},
                    created_at=now,
                    answers={"asked": False, "replies": {}},
                )
            )
        await self.session.flush()
        return await self.in_round(group_id, round_key)

    async def get(self, pair_id: int) -> Pair | None:
        """One pair by id."""
        row = await self.session.get(PairRow, pair_id)
        return _pair(row) if row else None

    async def update(self, pair: Pair) -> None:
        """Store a pair's flags and answers."""
        row = await self.session.get(PairRow, pair.id)
        if row is None:
            return
        row.user_ids = {"members": list(pair.members), "notified": pair.notified}
        row.answers = {"asked": pair.asked, "replies": dict(pair.answers)}
        await self.session.flush()

    async def for_group(self, group_id: str) -> list[Pair]:
        """Every pair of a group, oldest first."""
        rows = await self.session.scalars(
            select(PairRow).where(PairRow.group_id == group_id).order_by(PairRow.id)
        )
        return [_pair(r) for r in rows]
