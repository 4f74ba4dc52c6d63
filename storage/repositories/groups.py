"""Groups, categories, roles and members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Category, Group, Language, Member, RoleRecord
from bot.group_settings import FeatureSettings
from bot.messages import Posting, Visibility
from storage.models import CategoryRow, GroupRow, MemberRoleRow, MemberRow, RoleRow
from storage.repositories.base import Repository, _count, as_record


def _group(row: GroupRow) -> Group:
    return Group(
        id=row.id,
        platform=row.platform,
        language=Language(row.language),
        timezone=row.timezone,
        settings=dict(row.settings or {}),
        created_at=row.created_at,
    )


class SqlGroupRepository(Repository):
    """Groups and their settings."""

    async def get(self, group_id: str) -> Group | None:
        """One group."""
        row = await self.session.get(GroupRow, group_id)
        return _group(row) if row else None

    async def add(self, group: Group) -> None:
        """Store a new group; a group another event or process stored first is kept as it is."""
        await self.session.execute(
            self.insert_ignore(GroupRow)
            .values(
                id=group.id,
                platform=group.platform,
                language=group.language.value,
                timezone=group.timezone,
                settings=dict(group.settings),
                created_at=group.created_at,
            )
            .on_conflict_do_nothing()
        )

    async def update(self, group: Group) -> None:
        """Store a changed group."""
        # TODO(reshape): settings only through set_settings once every feature uses it.
        await self.session.execute(
            update(GroupRow)
            .where(GroupRow.id == group.id)
            .values(language=group.language.value, timezone=group.timezone, settings=group.settings)
        )

    async def set_settings(self, group_id: str, settings: FeatureSettings) -> None:
        """Replace one feature's settings, leaving the other features' as they are."""
        # The row is locked (PostgreSQL) or the database written (SQLite) for the merge, so
        # two features' changes at once are both kept.
        row = await self.session.scalar(
            select(GroupRow).where(GroupRow.id == group_id).with_for_update()
        )
        if row is None:
            return
        row.settings = {**(row.settings or {}), settings.namespace: settings.stored()}
        await self.session.flush()

    async def all(self) -> list[Group]:
        """Every group."""
        rows = await self.session.scalars(select(GroupRow).order_by(GroupRow.id))
        return [_group(r) for r in rows]


def _category(row: CategoryRow) -> Category:
    category = as_record(Category, row)
    return replace(category, posting=Posting(row.posting), visibility=Visibility(row.visibility))


class SqlCategoryRepository(Repository):
    """Categories and their channels."""

    async def for_group(self, group_id: str, *, include_removed: bool = False) -> list[Category]:
        """Categories in display order."""
        query = select(CategoryRow).where(CategoryRow.group_id == group_id)
        if not include_removed:
            query = query.where(CategoryRow.removed.is_(False))
        rows = await self.session.scalars(query.order_by(CategoryRow.position, CategoryRow.id))
        return [_category(r) for r in rows]

    async def get(self, group_id: str, key: str) -> Category | None:
        """One category by key."""
        row = await self._row(group_id, key)
        return _category(row) if row else None

    async def _row(self, group_id: str, key: str) -> CategoryRow | None:
        return await self.session.scalar(
            select(CategoryRow).where(CategoryRow.group_id == group_id, CategoryRow.key == key)
        )

    async def save(self, category: Category) -> None:
        """Insert or update a category."""
        row = await self._row(category.group_id, category.key)
        if row is None:
            row = CategoryRow(group_id=category.group_id, key=category.key)
            self.session.add(row)
        row.name = category.name
        row.description = category.description
        row.channel_id = category.channel_id
        row.posting = category.posting.value
        row.visibility = category.visibility.value
        row.listing = category.listing
        row.position = category.position
        row.removed = category.removed
        row.builtin = category.builtin
        await self.session.flush()

    async def by_channel(self, group_id: str, channel_id: str) -> Category | None:
        """The category whose channel this is."""
        row = await self.session.scalar(
            select(CategoryRow).where(
                CategoryRow.group_id == group_id, CategoryRow.channel_id == channel_id
            )
        )
        return _category(row) if row else None


class SqlRoleRepository(Repository):
    """Managed roles and who holds them."""

    async def for_group(self, group_id: str) -> list[RoleRecord]:
        """Every managed role."""
        rows = await self.session.scalars(
            select(RoleRow).where(RoleRow.group_id == group_id).order_by(RoleRow.id)
        )
        return [RoleRecord(r.group_id, r.key, r.name, r.platform_id) for r in rows]

    async def get(self, group_id: str, key: str) -> RoleRecord | None:
        """One role by key."""
        row = await self.session.scalar(
            select(RoleRow).where(RoleRow.group_id == group_id, RoleRow.key == key)
        )
        return RoleRecord(row.group_id, row.key, row.name, row.platform_id) if row else None

    async def save(self, role: RoleRecord) -> None:
        """Insert or update a role."""
        row = await self.session.scalar(
            select(RoleRow).where(RoleRow.group_id == role.group_id, RoleRow.key == role.key)
        )
        if row is None:
            row = RoleRow(group_id=role.group_id, key=role.key)
            self.session.add(row)
        row.name = role.name
        row.platform_id = role.platform_id
        await self.session.flush()

    async def holders(self, group_id: str, key: str) -> list[str]:
        """User ids holding a role."""
        rows = await self.session.scalars(
            select(MemberRoleRow.user_id)
            .where(MemberRoleRow.group_id == group_id, MemberRoleRow.role_key == key)
            .order_by(MemberRoleRow.user_id)
        )
        return list(rows)

    async def grant(
        self, group_id: str, user_id: str, key: str, source: str, by: str | None, now: datetime
    ) -> bool:
        """Record a grant; False if the member already held it."""
        stmt = (
            self.insert_ignore(MemberRoleRow)
            .values(
                group_id=group_id,
                user_id=user_id,
                role_key=key,
                source=source,
                granted_by=by,
                granted_at=now,
            )
            .on_conflict_do_nothing()
        )
        result = await self.session.execute(stmt)
        return _count(result)

    async def revoke(self, group_id: str, user_id: str, key: str) -> bool:
        """Record a revocation; False if the member did not hold it."""
        result = await self.session.execute(
            delete(MemberRoleRow).where(
                MemberRoleRow.group_id == group_id,
                MemberRoleRow.user_id == user_id,
                MemberRoleRow.role_key == key,
            )
        )
        return _count(result)


class SqlMemberRepository(Repository):
    """Members with their roles."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._absent: set[tuple[str, str]] = set()  # looked up in this unit of work: no row

    async def _roles(self, group_id: str, user_id: str) -> frozenset[str]:
        rows = await self.session.scalars(
            select(MemberRoleRow.role_key).where(
                MemberRoleRow.group_id == group_id, MemberRoleRow.user_id == user_id
            )
        )
        return frozenset(rows)

    async def get(self, group_id: str, user_id: str) -> Member | None:
        """One member with their roles."""
        row = await self.session.get(MemberRow, (group_id, user_id))
        if row is None:
            self._absent.add((group_id, user_id))
            return None
        return _member(row, await self._roles(group_id, user_id))

    async def save(self, member: Member) -> None:
        """Insert or update a member (roles are kept by the role repository)."""
        key = (member.group_id, member.user_id)
        # A member this unit of work just found absent is inserted without asking again.
        row = None if key in self._absent else await self.session.get(MemberRow, key)
        self._absent.discard(key)
        fields = {
            "name": member.name,
            "email": member.email,
            "joined_at": member.joined_at,
            "left_at": member.left_at,
            "invited_by": member.invited_by,
        }
        if row is None:
            # An upsert: another event may have stored the member since we looked (a join and
            # a first command at once); the newer facts win instead of a duplicate-key error.
            await self.session.execute(
                self.insert_ignore(MemberRow)
                .values(group_id=member.group_id, user_id=member.user_id, **fields)
                .on_conflict_do_update(index_elements=["group_id", "user_id"], set_=fields)
            )
            return
        for name, value in fields.items():
            setattr(row, name, value)
        await self.session.flush()

    async def add_if_absent(self, member: Member) -> Member:
        """Store a member unless one is stored already; returns the stored member.

        `INSERT ... ON CONFLICT DO NOTHING`, so simultaneous first commands of a newcomer create
        them once, and a record a join just made is not overwritten by a bare one.
        """
        await self.session.execute(
            self.insert_ignore(MemberRow)
            .values(
                group_id=member.group_id,
                user_id=member.user_id,
                name=member.name,
                email=member.email,
                joined_at=member.joined_at,
                left_at=member.left_at,
                invited_by=member.invited_by,
            )
            .on_conflict_do_nothing()
        )
        self._absent.discard((member.group_id, member.user_id))
        stored = await self.get(member.group_id, member.user_id)
        return stored or member

    async def for_group(self, group_id: str) -> list[Member]:
        """Every member with roles."""
        rows = list(
            await self.session.scalars(
                select(MemberRow).where(MemberRow.group_id == group_id).order_by(MemberRow.name)
            )
        )
        roles: dict[str, set[str]] = {}
        for user_id, key in await self.session.execute(
            select(MemberRoleRow.user_id, MemberRoleRow.role_key).where(
                MemberRoleRow.group_id == group_id
            )
        ):
            roles.setdefault(user_id, set()).add(key)
        return [_member(r, frozenset(roles.get(r.user_id, ()))) for r in rows]

    async def names(self, group_id: str, user_ids: Sequence[str]) -> dict[str, str]:
        """User id -> name of the members named (those recorded), in one query."""
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(MemberRow.user_id, MemberRow.name).where(
                MemberRow.group_id == group_id, MemberRow.user_id.in_(list(set(user_ids)))
            )
        )
        return {user_id: name for user_id, name in rows}

    async def search(
        self, group_id: str, text: str, role_keys: Sequence[str], offset: int, limit: int
    ) -> tuple[list[Member], int]:
        """One page of matching members by name, and the count: the database filters and
        pages (a group of thousands is never read whole), the page's roles in one query."""
        query = select(MemberRow).where(MemberRow.group_id == group_id)
        if text:
            # LIKE's own characters in a name typed are meant literally.
            escaped = "".join("\\" + c if c in "\\%_" else c for c in text.lower())
            pattern = f"%{escaped}%"
            query = query.where(func.lower(MemberRow.name).like(pattern, escape="\\"))
        for key in role_keys:
            query = query.where(
                exists().where(
                    MemberRoleRow.group_id == group_id,
                    MemberRoleRow.user_id == MemberRow.user_id,
                    MemberRoleRow.role_key == key,
                )
            )
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = list(
            await self.session.scalars(
                query.order_by(func.lower(MemberRow.name), MemberRow.user_id)
                .offset(offset)
                .limit(limit)
            )
        )
        roles: dict[str, set[str]] = {}
        if rows:
            for user_id, key in await self.session.execute(
                select(MemberRoleRow.user_id, MemberRoleRow.role_key).where(
                    MemberRoleRow.group_id == group_id,
                    MemberRoleRow.user_id.in_([r.user_id for r in rows]),
                )
            ):
                roles.setdefault(user_id, set()).add(key)
        return [_member(r, frozenset(roles.get(r.user_id, ()))) for r in rows], total or 0


def _member(row: MemberRow, roles: frozenset[str]) -> Member:
    return Member(
        group_id=row.group_id,
        user_id=row.user_id,
        name=row.name,
        email=row.email,
        joined_at=row.joined_at,
        left_at=row.left_at,
        invited_by=row.invited_by,
        roles=roles,
    )
