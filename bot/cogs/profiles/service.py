"""The profiles feature's use cases: save the form, set mentoring, show a profile, find members,
post a career update. `seen_by` is the view other features use (coffee pairs' introductions,
a whois): private fields only for the member themself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace

from bot.channels import shown_name
from bot.cogs.privacy.service import PrivacyService
from bot.cogs.profiles import views
from bot.cogs.profiles.forms import (
    KEEP_UPDATES,
    MENTORING,
    SEARCHED,
    UPDATE_LIMIT,
    UPDATES,
    check,
    folded,
)
from bot.cogs.profiles.records import Hit, Profile, ProfileView, UpdatePosted
from bot.domain import Actor, Group, Member
from bot.errors import UserError
from bot.ports import Clock, UnitOfWorkFactory, Workspace
from bot.safety import clip, neutralise

# A member by id, name or mention in a group (the members feature's lookup).
FindMember = Callable[[str, str], Awaitable[Member | None]]


class ProfilesService:
    """Members' own profiles: each method is one use case, shared by commands and buttons."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        clock: Clock,
        privacy: PrivacyService,
        find_member: FindMember,
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock
        self.privacy = privacy
        self.find_member = find_member

    async def get(self, group: Group, user_id: str) -> Profile | None:
        """A member's profile as stored (their own, to fill in the form), if any."""
        async with self.uow() as uow:
            return await uow.profiles.get(group.id, user_id)

    async def save(self, group: Group, actor: Actor, values: dict[str, str]) -> Profile:
        """Check the submitted form and store it; a refused form changes nothing, and every
        saved value the submission does not carry (a field it leaves out, mentoring, career
        updates) is kept as it was."""
        async with self.uow() as uow:
            old = await uow.profiles.get(group.id, actor.id)
            kept = dict(old.fields) if old else {}
            try:
                checked = check(values, kept)
            except UserError as exc:
                raise views.field_labels(group.language, exc) from None
            profile = Profile(group.id, actor.id, self.clock.now(), {**kept, **checked})
            await uow.profiles.save(profile)
        return profile

    async def set_mentoring(self, group: Group, actor: Actor, open_to_it: bool) -> Profile:
        """Say on the actor's profile whether they are open to mentoring students."""
        now = self.clock.now()
        async with self.uow() as uow:
            profile = await uow.profiles.get(group.id, actor.id) or Profile(
                group.id, actor.id, now, {}
            )
            profile = replace(
                profile, fields={**profile.fields, MENTORING: open_to_it}, updated_at=now
            )
            await uow.profiles.save(profile)
        return profile

    async def show(self, group: Group, viewer: Actor, wanted: str | None = None) -> ProfileView:
        """A member's profile (the viewer's own without `wanted`) with their roles; refused for
        a member nobody knows, or one without a profile."""
        user_id = await self._resolve(group, wanted) if wanted else viewer.id
        async with self.uow() as uow:
            profile = await uow.profiles.get(group.id, user_id)
            member = await uow.members.get(group.id, user_id)
            # Role names as the group sees them: cohort roles ("Fashion 2026") included.
            role_names = {r.key: r.name for r in await uow.roles.for_group(group.id)}
        own = user_id == viewer.id
        name = member.name if member else (viewer.name if own else user_id)
        if profile is None:
            raise UserError("profiles.none_yours" if own else "profiles.none_theirs", name=name)
        roles = tuple(sorted(role_names.get(r, r) for r in member.roles)) if member else ()
        return replace(_view(viewer.id, user_id, profile, member), name=name, roles=roles)

    async def _resolve(self, group: Group, wanted: str) -> str:
        """A member's user id from an id, a name or a mention."""
        member = await self.find_member(group.id, wanted)
        if member is None:
            raise UserError("profiles.member_unknown", name=clip(neutralise(wanted), 60))
        return member.user_id

    async def seen_by(
        self, group: Group, viewer_id: str, user_ids: Iterable[str]
    ) -> list[ProfileView]:
        """Members' profiles as `viewer_id` may see them, in the order asked (a member without
        a profile has `profile` None); the email only in the viewer's own."""
        async with self.uow() as uow:
            found = [
                (u, await uow.profiles.get(group.id, u), await uow.members.get(group.id, u))
                for u in user_ids
            ]
        return [_view(viewer_id, u, profile, member) for u, profile, member in found]

    async def find(self, group: Group, text: str) -> list[Hit]:
        """Members still in the group whose name, cohort, headline, programme, work or skills
        contain every word (capitals and accents aside), by name; refused when nobody matches."""
        words = folded(text).split()
        async with self.uow() as uow:
            members = [m for m in await uow.members.for_group(group.id) if m.left_at is None]
            profiles = {p.user_id: p for p in await uow.profiles.for_group(group.id)}
            cohort_of: dict[str, str] = {}
            for c in await uow.cohorts.for_group(group.id):
                for user_id in await uow.cohorts.member_ids(group.id, c.id):
                    cohort_of[user_id] = c.name
        hits: list[Hit] = []
        for m in members:
            profile = profiles.get(m.user_id)
            cohort = cohort_of.get(m.user_id)
            fields = profile.fields if profile else {}
            searched = [m.name, cohort or "", *(str(fields.get(k) or "") for k in SEARCHED)]
            haystack = folded(" ".join(searched))
            if all(w in haystack for w in words):
                hits.append(Hit(m.name, profile, cohort))
        if not hits:
            raise UserError("profiles.find_none", words=clip(neutralise(text), 100))
        hits.sort(key=lambda h: folded(h.name))
        return hits

    async def post_update(self, group: Group, actor: Actor, text: str) -> UpdatePosted:
        """Post a career update in #showcase and keep it (the latest few) on the profile."""
        if len(text) > UPDATE_LIMIT:
            raise UserError("core.option_too_long", option="text", limit=UPDATE_LIMIT)
        now = self.clock.now()
        async with self.uow() as uow:
            showcase = await uow.categories.get(group.id, "showcase")
            member = await uow.members.get(group.id, actor.id)
        if showcase is None or showcase.removed or showcase.channel_id is None:
            known = showcase if showcase is not None and not showcase.removed else None
            raise UserError(
                "profiles.showcase_missing", channel=shown_name(group.language, known, "showcase")
            )
        name = member.name if member else actor.name
        safe = neutralise(text.strip())
        ref = await self.workspace.send(
            group.id, showcase.channel_id, views.update_post(group.language, name, safe)
        )
        # The update is theirs alone: erasing them replaces it with a short note.
        await self.privacy.remember(group.id, ref, [actor.id])
        async with self.uow() as uow:
            profile = await uow.profiles.get(group.id, actor.id) or Profile(
                group.id, actor.id, now, {}
            )
            updates = [{"text": safe, "at": now.isoformat()}, *profile.fields.get(UPDATES, [])]
            profile = replace(
                profile, fields={**profile.fields, UPDATES: updates[:KEEP_UPDATES]}, updated_at=now
            )
            await uow.profiles.save(profile)
        return UpdatePosted(showcase.name, profile, showcase.channel_id)


def _view(
    viewer_id: str, user_id: str, profile: Profile | None, member: Member | None
) -> ProfileView:
    """The profile as the viewer may see it: the email only when it is the viewer's own."""
    own = viewer_id == user_id
    return ProfileView(
        user_id=user_id,
        name=member.name if member else user_id,
        profile=profile,
        # Private: the email the platform gave us is shown to nobody but its owner.
        email=member.email if member is not None and own else None,
        own=own,
    )
