"""The members' use cases: find one, make sure one is recorded, record a leave."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.cogs.members.records import MemberPage
from bot.domain import Member
from bot.errors import UserError
from bot.events import UserRef
from bot.ports import Clock, UnitOfWorkFactory, Workspace
from bot.safety import neutralise

SEARCH_PAGE = 50
MAX_SEARCH = 100  # characters of a name searched for


class MembersService:
    """The group's member records, shared by every feature that names a member."""

    def __init__(self, uow: UnitOfWorkFactory, workspace: Workspace, clock: Clock) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock

    async def find(self, group_id: str, wanted: str) -> Member | None:
        """A member by platform id, name or mention (`@kari`, `<@123>`); members who left last."""
        wanted = wanted.strip().lstrip("@")
        async with self.uow() as uow:
            member = await uow.members.get(group_id, wanted)
            if member is not None:
                return member
            matches = [
                m
                for m in await uow.members.for_group(group_id)
                if wanted.lower() in (m.name.lower(), m.user_id.lower())
            ]
        matches.sort(key=lambda m: m.left_at is not None)
        return matches[0] if matches else None

    async def get(self, group_id: str, user_id: str) -> Member:
        """A member recorded in the group, by platform id only (a form's hidden field: no name
        matching, no asking the platform); refused otherwise."""
        async with self.uow() as uow:
            member = await uow.members.get(group_id, user_id)
        if member is None:
            raise UserError("members.member_unknown", member=neutralise(user_id[:64]))
        return member

    async def search(
        self, group_id: str, text: str, role_keys: Sequence[str] = (), page: int = 1
    ) -> MemberPage:
        """A page of the members whose name holds `text` and who hold every role named (a
        cohort is its role), by name; the database does the filtering and paging."""
        page = max(1, page)
        found, total = await self._search(group_id, text.strip()[:MAX_SEARCH], role_keys, page)
        if not found and total and page > 1:  # past the end (the list shrank): the last page
            page = -(-total // SEARCH_PAGE)
            found, total = await self._search(group_id, text.strip()[:MAX_SEARCH], role_keys, page)
        return MemberPage(tuple(found), total, page, SEARCH_PAGE)

    async def _search(
        self, group_id: str, text: str, role_keys: Sequence[str], page: int
    ) -> tuple[list[Member], int]:
        async with self.uow() as uow:
            return await uow.members.search(
                group_id, text, role_keys, (page - 1) * SEARCH_PAGE, SEARCH_PAGE
            )

    async def ensure(self, group_id: str, user: UserRef) -> Member:
        """The member's record, created (once, however many commands race) for members who
        were there before the bot."""
        async with self.uow() as uow:
            member = await uow.members.get(group_id, user.id)
            if member is None:
                member = await uow.members.add_if_absent(
                    Member(group_id, user.id, user.name or user.id)
                )
        return member

    async def resolve(self, group_id: str, wanted: str) -> Member:
        """A member staff named: from the records, else from the platform (then recorded);
        refused when neither knows them."""
        member = await self.find(group_id, wanted)
        if member is not None:
            return member
        info = await self.workspace.member_info(group_id, wanted.strip().lstrip("@"))
        if info is None:
            raise UserError("members.member_unknown", member=neutralise(wanted))
        return await self.ensure(group_id, UserRef(info.id, info.name))

    async def names(self, group_id: str, user_ids: Sequence[str] | None = None) -> dict[str, str]:
        """User id -> name of every member recorded (those who left too), or of those named
        (a page needs a few names, not the whole group's)."""
        async with self.uow() as uow:
            if user_ids is not None:
                return await uow.members.names(group_id, user_ids)
            return {m.user_id: m.name for m in await uow.members.for_group(group_id)}

    async def left(self, group_id: str, user_id: str) -> bool:
        """Mark a member as gone (nothing else is deleted); False if unknown or gone already."""
        async with self.uow() as uow:
            member = await uow.members.get(group_id, user_id)
            if member is None or member.left_at is not None:
                return False
            await uow.members.save(replace(member, left_at=self.clock.now()))
        return True
