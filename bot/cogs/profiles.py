"""Profiles: a form members fill in, a directory search, and career updates in #showcase.

`profile_lines(ctx, user_id)` is the shared view of a profile that other features (onboarding's
`/alumni whois`) call; it shows private fields only to the member themself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from bot.cog import Cog, button, command, form
from bot.cogs.members import find_member
from bot.cogs.privacy import remember
from bot.commands import Option, OptionType
from bot.core import Context
from bot.domain import Language, Member, Permission
from bot.errors import UserError
from bot.events import ButtonPressed, FormSubmitted
from bot.i18n import t
from bot.messages import Button, FormField, FormSpec, OutgoingMessage
from bot.profile_records import Profile
from bot.safety import clip, neutralise

FORM_ID = "profile"
# How many career updates a profile keeps (the posts stay in #showcase).
KEEP_UPDATES = 5
UPDATE_LIMIT = 500
SEARCH_RESULTS = 10


@dataclass(frozen=True)
class ProfileField:
    """One field of the profile form: its key, its length limit, and how it is asked."""

    key: str
    limit: int
    long: bool = False
    required: bool = False


# The form's fields. Five, so the form fits every platform (a Discord modal holds at most 5
# inputs; see Capabilities.form_fields): "open to mentoring" is a yes/no of its own, set with
# `/alumni profile mentoring` or the buttons under the saved profile, so no edit resets it.
PROFILE_FIELDS: tuple[ProfileField, ...] = (
    ProfileField("headline", 100, required=True),
    ProfileField("programme", 100),
    ProfileField("work", 150),
    ProfileField("skills", 300, long=True),
    ProfileField("link", 200),
)
MENTORING = "mentoring"
# Fields searched by /alumni find (besides the member's name).
SEARCHED = ("headline", "programme", "work", "skills")


def valid_link(link: str) -> bool:
    """An http(s) address with a host and no spaces; anything else could be a trap or a typo."""
    if any(c.isspace() for c in link):
        return False
    try:
        parts = urlsplit(link)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and "." in parts.netloc and not parts.username


def parse_profile(ctx: Context, values: dict[str, str]) -> dict[str, Any]:
    """Check a submitted form; UserError names the field and its limit, or the bad link."""
    out: dict[str, Any] = {}
    for f in PROFILE_FIELDS:
        value = (values.get(f.key) or "").strip()
        label = ctx.t(f"profiles.field.{f.key}")
        if len(value) > f.limit:
            raise UserError("profiles.too_long", field=label, limit=f.limit, length=len(value))
        if f.required and not value:
            raise UserError("profiles.required", field=label)
        if f.key == "link" and value and not valid_link(value):
            raise UserError("profiles.link_invalid", link=clip(neutralise(value), 80))
        out[f.key] = neutralise(value)
    return out


async def profile_lines(ctx: Context, user_id: str) -> list[str]:
    """A member's profile as lines "Label: value"; private fields only for the member themself.

    Empty when the member has no profile. Onboarding's `/alumni whois` shows these lines.
    """
    async with ctx.bot.uow() as uow:
        profile = await uow.profiles.get(ctx.group.id, user_id)
        member = await uow.members.get(ctx.group.id, user_id)
    fields = profile_fields(ctx.lang, profile, member, viewer_id=ctx.user.id)
    return [f"{label}: {value}" for label, value in fields]


def profile_fields(
    lang: Language, profile: Profile | None, member: Member | None, *, viewer_id: str
) -> list[tuple[str, str]]:
    """(label, value) pairs of a profile as `viewer_id` may see it: email only for the owner."""
    out: list[tuple[str, str]] = []
    if profile is not None:
        for f in PROFILE_FIELDS:
            value = profile.fields.get(f.key)
            if value:
                out.append((t(lang, f"profiles.field.{f.key}"), str(value)))
        if profile.fields.get(MENTORING):
            out.append((t(lang, "profiles.field.mentoring"), t(lang, "profiles.yes")))
        updates = profile.fields.get("updates") or []
        if updates:
            latest = updates[0]
            when = str(latest.get("at", ""))[:10]
            out.append((t(lang, "profiles.latest_update"), f"{latest.get('text', '')} ({when})"))
    # Private: the email the platform gave us is shown to nobody but its owner.
    if member is not None and member.email and viewer_id == member.user_id:
        out.append((t(lang, "profiles.field.email"), member.email))
    return out


class ProfilesCog(Cog):
    """`/alumni profile`, `/alumni profile show`, `/alumni find`, `/alumni update`."""

    name = "profiles"

    @command(
        "profile edit",
        permission=Permission.MEMBER,
        help_key="profiles.edit_help",
        default_of_group=True,
    )
    async def edit(self, ctx: Context) -> None:
        """Open the profile form, filled in with what the member wrote before."""
        async with self.bot.uow() as uow:
            profile = await uow.profiles.get(ctx.group.id, ctx.user.id)
        current = profile.fields if profile else {}
        fields = tuple(
            FormField(
                name=f.key,
                label=ctx.t(f"profiles.form.{f.key}"),
                required=f.required,
                long=f.long,
                max_length=f.limit,
                placeholder=ctx.t(f"profiles.placeholder.{f.key}"),
                default=str(current.get(f.key, "")),
            )
            for f in PROFILE_FIELDS
        )
        if ctx.responder is None:
            raise UserError("profiles.no_form_here")
        await ctx.responder.open_form(FormSpec(FORM_ID, ctx.t("profiles.form_title"), fields))

    @form(FORM_ID)
    async def submitted(self, ctx: Context, event: FormSubmitted) -> None:
        """Validate and store the profile; a refused form changes nothing, and what the form
        does not ask (mentoring, career updates) is kept as it was."""
        values = parse_profile(ctx, event.values)
        async with self.bot.uow() as uow:
            old = await uow.profiles.get(ctx.group.id, ctx.user.id)
            kept = dict(old.fields) if old else {}
            await uow.profiles.save(
                Profile(ctx.group.id, ctx.user.id, self.bot.clock.now(), {**kept, **values})
            )
        await ctx.reply(self._saved(ctx, bool(kept.get(MENTORING))))

    def _saved(self, ctx: Context, mentoring: bool) -> OutgoingMessage:
        state = ctx.t("profiles.yes") if mentoring else ctx.t("profiles.no")
        return OutgoingMessage(
            "\n".join([ctx.t("profiles.saved"), ctx.t("profiles.mentoring_state", state=state)]),
            buttons=(
                Button(ctx.t("profiles.btn_mentoring_yes"), "profile:mentoring", "yes"),
                Button(ctx.t("profiles.btn_mentoring_no"), "profile:mentoring", "no"),
            ),
        )

    @command(
        "profile mentoring",
        permission=Permission.MEMBER,
        help_key="profiles.mentoring_help",
        options=(Option("open", OptionType.BOOLEAN, required=True),),
    )
    async def mentoring(self, ctx: Context, open: bool) -> None:
        """Say on your profile whether you are open to mentoring students."""
        await self._set_mentoring(ctx, open)

    @button("profile:mentoring")
    async def mentoring_pressed(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """The buttons under a saved profile: yes or no."""
        if event.value not in ("yes", "no"):
            raise UserError("core.button_unknown")
        await self._set_mentoring(ctx, event.value == "yes")

    async def _set_mentoring(self, ctx: Context, value: bool) -> None:
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            profile = await uow.profiles.get(ctx.group.id, ctx.user.id) or Profile(
                ctx.group.id, ctx.user.id, now, {}
            )
            fields = {**profile.fields, MENTORING: value}
            await uow.profiles.save(replace(profile, fields=fields, updated_at=now))
        await ctx.say("profiles.mentoring_now_yes" if value else "profiles.mentoring_now_no")

    @command(
        "profile show",
        permission=Permission.MEMBER,
        help_key="profiles.show_help",
        options=(Option("member", OptionType.USER, max_length=100),),
    )
    async def show(self, ctx: Context, member: str | None = None) -> None:
        """Show a member's profile (your own without `member`)."""
        user_id = await self._resolve(ctx, member) if member else ctx.user.id
        async with self.bot.uow() as uow:
            profile = await uow.profiles.get(ctx.group.id, user_id)
            record = await uow.members.get(ctx.group.id, user_id)
            # Role names as the group sees them: cohort roles ("Fashion 2026") included.
            role_names = {r.key: r.name for r in await uow.roles.for_group(ctx.group.id)}
        name = record.name if record else (ctx.user.name or user_id)
        if profile is None:
            key = "profiles.none_yours" if user_id == ctx.user.id else "profiles.none_theirs"
            raise UserError(key, name=name)
        fields = profile_fields(ctx.lang, profile, record, viewer_id=ctx.user.id)
        if record is not None and record.roles:
            roles = ", ".join(sorted(role_names.get(r, r) for r in record.roles))
            fields.insert(0, (ctx.t("profiles.roles"), roles))
        note = ctx.t("profiles.private_note") if user_id == ctx.user.id else ""
        await ctx.reply(OutgoingMessage(note, title=name, fields=tuple(fields)))

    async def _resolve(self, ctx: Context, wanted: str) -> str:
        """A member's user id from an id or a name."""
        member = await find_member(self.bot, ctx.group.id, wanted)
        if member is not None:
            return member.user_id
        raise UserError("profiles.member_unknown", name=clip(neutralise(wanted), 60))

    @command(
        "find",
        permission=Permission.MEMBER,
        help_key="profiles.find_help",
        options=(Option("text", required=True, rest=True, max_length=100),),
    )
    async def find(self, ctx: Context, text: str) -> None:
        """Members whose name, skills, work or cohort contain every word."""
        words = [w.lower() for w in text.split() if w.strip()]
        async with self.bot.uow() as uow:
            members = {m.user_id: m for m in await uow.members.for_group(ctx.group.id)}
            profiles = await uow.profiles.for_group(ctx.group.id)
        hits: list[tuple[str, Profile]] = []
        for p in profiles:
            m = members.get(p.user_id)
            if m is not None and m.left_at is not None:
                continue
            name = m.name if m else p.user_id
            haystack = " ".join([name, *(str(p.fields.get(k) or "") for k in SEARCHED)]).lower()
            if all(w in haystack for w in words):
                hits.append((name, p))
        if not hits:
            raise UserError("profiles.find_none", words=clip(neutralise(text), 100))
        hits.sort(key=lambda h: h[0].lower())
        lines = [ctx.t("profiles.find_title", count=len(hits), words=clip(neutralise(text), 100))]
        for name, p in hits[:SEARCH_RESULTS]:
            about = " · ".join(
                str(p.fields[k]) for k in ("headline", "work", "programme") if p.fields.get(k)
            )
            lines.append(f"- **{name}**: {about}")
        if len(hits) > SEARCH_RESULTS:
            lines.append(ctx.t("profiles.find_more", more=len(hits) - SEARCH_RESULTS))
        lines.append(ctx.t("profiles.find_hint"))
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    @command(
        "update",
        permission=Permission.MEMBER,
        help_key="profiles.update_help",
        options=(Option("text", required=True, rest=True, max_length=UPDATE_LIMIT),),
    )
    async def update(self, ctx: Context, text: str) -> None:
        """Post a career update in #showcase and keep it on the profile."""
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            showcase = await uow.categories.get(ctx.group.id, "showcase")
            member = await uow.members.get(ctx.group.id, ctx.user.id)
        if showcase is None or showcase.removed or showcase.channel_id is None:
            raise UserError("profiles.showcase_missing")
        name = member.name if member else (ctx.user.name or ctx.user.id)
        safe = neutralise(text.strip())
        ref = await self.bot.workspace.send(
            ctx.group.id,
            showcase.channel_id,
            OutgoingMessage(safe, title=ctx.t("profiles.update_title", name=name)),
        )
        # The update is theirs alone: erasing them replaces it with a short note.
        await remember(self.bot, ctx.group.id, ref, [ctx.user.id])
        async with self.bot.uow() as uow:
            profile = await uow.profiles.get(ctx.group.id, ctx.user.id) or Profile(
                ctx.group.id, ctx.user.id, now, {}
            )
            updates = [{"text": safe, "at": now.isoformat()}, *profile.fields.get("updates", [])]
            fields = {**profile.fields, "updates": updates[:KEEP_UPDATES]}
            await uow.profiles.save(replace(profile, fields=fields, updated_at=now))
        await ctx.say("profiles.update_posted", channel=showcase.name)
