"""Protocols the core depends on: the platform (Workspace), storage (UnitOfWork), time (Clock)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.cogs.dashboard.ports import DashboardRepository
from bot.cogs.onboarding.ports import (
    CohortRepository,
    GrantRepository,
    InvitationRepository,
    RequestRepository,
    RosterRepository,
)
from bot.cogs.pairs.ports import PairRepository
from bot.cogs.posts.ports import PostRepository
from bot.cogs.privacy.ports import PrivacyRepository
from bot.cogs.profiles.ports import ProfileRepository
from bot.cogs.prompts.ports import PromptRepository
from bot.cogs.stats.ports import ActivityRepository
from bot.domain import Category, Group, Member, RoleRecord
from bot.events import ChannelRef, MessageRef
from bot.group_settings import FeatureSettings
from bot.messages import ChannelSpec, FormSpec, OutgoingMessage, RoleSpec

if TYPE_CHECKING:
    from bot.cogs.mail.ports import InvitationRepository as MailInvitationRepository
    from bot.cogs.mail.ports import MailPreferences, OutboxRepository


@dataclass(frozen=True)
class Capabilities:
    """What a platform can do natively; the adapter degrades the rest in one place."""

    polls: bool = False
    # False where the platform cannot keep members from starting posts in a staff-only
    # channel (Slack below Enterprise Grid): the core tells them instead.
    enforces_posting: bool = True
    # Member role updates per second the bot allows itself in bulk (None: no pacing needed).
    role_updates_per_second: float | None = None
    # False where the text members write does not reach the bot (Discord without the
    # privileged Message Content intent): features that read it are skipped there.
    message_text: bool = True
    # Days an invite link lasts at most (None: as long as asked); a code carries the trust.
    invite_days: int | None = None
    # What a form may hold (None: no limit): inputs, characters of its title, of an input's
    # label and placeholder, and the longest answer an input can take.
    form_fields: int | None = None
    form_title: int | None = None
    field_label: int | None = None
    field_placeholder: int | None = None
    field_length: int | None = None

    def form_problems(self, form: FormSpec) -> list[str]:
        """Why a form would not fit this platform (empty: it fits, nothing is lost)."""
        problems: list[str] = []

        def over(what: str, size: int, limit: int | None) -> None:
            if limit is not None and size > limit:
                problems.append(f"{form.form_id}: {what} is {size}, the platform allows {limit}")

        over("the number of fields", len(form.fields), self.form_fields)
        over(f"the title {form.title!r}", len(form.title), self.form_title)
        for f in form.fields:
            over(f"the label of {f.name} ({f.label!r})", len(f.label), self.field_label)
            over(f"the placeholder of {f.name}", len(f.placeholder), self.field_placeholder)
            over(f"the length of {f.name}", f.max_length, self.field_length)
            over(f"the prefilled {f.name}", len(f.default), f.max_length)
        return problems


@dataclass(frozen=True)
class MemberInfo:
    """What the platform says about a member right now."""

    id: str
    name: str
    email: str | None = None
    is_admin: bool = False
    is_bot: bool = False


@runtime_checkable
class BatchesRoles(Protocol):
    """A workspace that sends many members' role changes together (optional)."""

    def role_batch(self, group_id: str) -> AbstractAsyncContextManager[None]:
        """Within it, `set_roles` may defer its platform calls until it exits (then raises)."""


@runtime_checkable
class HasSections(Protocol):
    """A workspace whose channels sit in a named section (optional): Discord's categories, the
    local workspace's; Slack has none."""

    async def rename_section(self, group_id: str, channel_id: str, old: str, new: str) -> bool:
        """Rename the section holding a channel if it is still called `old` (any case); True
        if it was renamed."""


@runtime_checkable
class RepairsRoles(Protocol):
    """A workspace whose roles have settings that can drift (optional): Discord's roles."""

    async def apply_role_spec(self, group_id: str, role_id: str, spec: RoleSpec) -> bool:
        """Restore what the spec asks (a role the bot pings is mentionable); True if changed."""


class GroupFacts(Protocol):
    """What the bot's records say about a group, handed by the core to a workspace that needs
    it to do what it is asked (Slack projects roles into channels, Discord invites into
    #welcome); a workspace never reads storage itself."""

    async def welcome_channel(self, group_id: str) -> str | None:
        """The id of the group's welcome channel, once setup made it."""

    async def staff_channels(self, group_id: str) -> tuple[str | None, tuple[str, ...]]:
        """The staff role's platform id and the channels only staff see."""

    async def role_ids(self, group_id: str) -> tuple[str, ...]:
        """Platform ids of every role the bot manages in the group."""

    async def holders(self, group_id: str, role_id: str) -> list[str] | None:
        """Who holds a role (by its platform id) in the bot's records; None if not the bot's."""


@runtime_checkable
class UsesFacts(Protocol):
    """A workspace that needs the bot's records of a group (optional)."""

    def use_facts(self, facts: GroupFacts) -> None:
        """Keep the facts to ask when a platform call depends on them."""


class Responder(Protocol):
    """Answers the member who caused an event (an interaction, a slash command, a line)."""

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        """Send an answer; private answers only the member sees."""

    async def edit_reply(self, message: OutgoingMessage) -> None:
        """Replace the last answer (progress messages)."""

    async def open_form(self, form: FormSpec) -> None:
        """Open a form for the member; the submission arrives as FormSubmitted."""

    async def defer(self) -> None:
        """Acknowledge now; the answer follows later."""

    async def read_attachment(self, ref: str, option: str) -> str:
        """The text of a file the member attached to `option` (UserError if unreadable)."""


class Workspace(Protocol):
    """What the core can ask of a platform."""

    platform: str
    capabilities: Capabilities

    async def channel_exists(self, group_id: str, channel_id: str) -> ChannelRef | None:
        """The channel if it still exists (by id, whatever it is called now)."""

    async def create_channel(self, group_id: str, spec: ChannelSpec) -> ChannelRef:
        """Create a channel as the spec says."""

    async def apply_channel_spec(self, group_id: str, channel_id: str, spec: ChannelSpec) -> bool:
        """Restore description and permissions (not the name); True if anything changed."""

    async def rename_channel(self, group_id: str, channel_id: str, name: str) -> None:
        """Rename a channel."""

    async def role_exists(self, group_id: str, role_id: str) -> bool:
        """True if the role still exists."""

    async def create_role(self, group_id: str, spec: RoleSpec) -> str:
        """Create a role; returns its platform id."""

    async def rename_role(self, group_id: str, role_id: str, name: str) -> None:
        """Rename a role (on Slack its projection: the private channel and the user group);
        PlatformError if the platform refuses, with nothing renamed."""

    async def set_roles(
        self, group_id: str, user_id: str, add: Sequence[str], remove: Sequence[str]
    ) -> None:
        """Grant and revoke roles for one member in as few requests as the platform allows."""

    async def send(
        self, group_id: str, channel_id: str, message: OutgoingMessage, thread_id: str | None = None
    ) -> MessageRef:
        """Post a message in a channel, or in a thread of it."""

    async def edit(self, group_id: str, ref: MessageRef, message: OutgoingMessage) -> None:
        """Replace a message the bot sent."""

    async def open_thread(self, group_id: str, ref: MessageRef, name: str) -> str:
        """Open a thread under a message; returns the thread id to send into."""

    async def send_dm(self, group_id: str, user_id: str, message: OutgoingMessage) -> MessageRef:
        """Send a direct message."""

    async def send_private(
        self, group_id: str, channel_id: str, user_id: str, message: OutgoingMessage
    ) -> None:
        """Show a message to one member in a channel (ephemeral where the platform can, else DM)."""

    async def create_invite(self, group_id: str, max_uses: int, max_age_seconds: int) -> str | None:
        """A link that lets people join the group, or None if the platform has none."""

    async def member_info(self, group_id: str, user_id: str) -> MemberInfo | None:
        """What the platform knows about a member, or None if they are not in the group."""

    async def member_roles(self, group_id: str, user_id: str) -> set[str] | None:
        """Platform ids of the bot's roles the member holds on the platform right now (on Slack:
        the role channels they are in); None if they are not in the group."""


@dataclass(frozen=True)
class ChartWeek:
    """One week on a chart's x axis, its words already in the group's language."""

    label: str  # "uke 34"
    year: str  # "2026": shown under the first label drawn and where the year turns
    total: str  # the week's messages, formatted ("1 500")


@dataclass(frozen=True)
class ChartSeries:
    """Counts per week with a style key (a role, or "replies") and its legend text."""

    key: str
    label: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class WeeklyChart:
    """Messages per week stacked by role, replies on the same axis, the takeaway as the title.

    Every word and number is in the group's language already: a renderer only draws. A week
    without messages and a week where nobody replied are told apart (`no_messages`,
    `nobody_replied`); `so_far` notes the last week when it is still running.
    """

    title: str
    subtitle: str
    weeks: tuple[ChartWeek, ...]
    stacks: tuple[ChartSeries, ...]  # one per role, bottom first
    replies: ChartSeries
    axis: str
    ticks: tuple[tuple[int, str], ...]  # y values and their labels
    no_messages: str
    nobody_replied: str
    so_far: str | None = None


class ChartRenderer(Protocol):
    """Draws charts to image files; blocking, so callers run it in a thread."""

    def render(self, chart: WeeklyChart, path: Path) -> Path:
        """Write the chart as a PNG at `path` and return it."""


class Clock(Protocol):
    """Tells the time; the local workspace can move it forward."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""


class GroupRepository(Protocol):
    """Groups and their settings."""

    async def get(self, group_id: str) -> Group | None:
        """One group."""

    async def add(self, group: Group) -> None:
        """Store a new group."""

    async def update(self, group: Group) -> None:
        """Store a changed language or timezone (settings go through set_settings)."""

    async def set_settings(self, group_id: str, settings: FeatureSettings) -> None:
        """Replace one feature's settings, leaving the other features' as they are."""

    async def all(self) -> list[Group]:
        """Every group."""


class CategoryRepository(Protocol):
    """Categories (kinds of post) and their channels."""

    async def for_group(self, group_id: str, *, include_removed: bool = False) -> list[Category]:
        """Categories in display order."""

    async def get(self, group_id: str, key: str) -> Category | None:
        """One category by key."""

    async def save(self, category: Category) -> None:
        """Insert or update a category."""

    async def by_channel(self, group_id: str, channel_id: str) -> Category | None:
        """The category whose channel this is."""


class RoleRepository(Protocol):
    """Roles the bot manages (their platform ids) and who holds them."""

    async def for_group(self, group_id: str) -> list[RoleRecord]:
        """Every managed role."""

    async def get(self, group_id: str, key: str) -> RoleRecord | None:
        """One role by key."""

    async def save(self, role: RoleRecord) -> None:
        """Insert or update a role."""

    async def holders(self, group_id: str, key: str) -> list[str]:
        """User ids holding a role."""

    async def grant(
        self, group_id: str, user_id: str, key: str, source: str, by: str | None, now: datetime
    ) -> bool:
        """Record a grant; False if the member already held it."""

    async def revoke(self, group_id: str, user_id: str, key: str) -> bool:
        """Record a revocation; False if the member did not hold it."""


class MemberRepository(Protocol):
    """Members of a group."""

    async def get(self, group_id: str, user_id: str) -> Member | None:
        """One member with their roles."""

    async def save(self, member: Member) -> None:
        """Insert or update a member (roles are kept by RoleRepository)."""

    async def add_if_absent(self, member: Member) -> Member:
        """Store a member unless one is stored already (atomically); returns the stored one."""

    async def for_group(self, group_id: str) -> list[Member]:
        """Every member."""

    async def names(self, group_id: str, user_ids: Sequence[str]) -> dict[str, str]:
        """User id -> name of the members named (those recorded)."""

    async def search(
        self, group_id: str, text: str, role_keys: Sequence[str], offset: int, limit: int
    ) -> tuple[list[Member], int]:
        """One page of the members whose name holds `text` (any case) and who hold every role
        named, by name; and how many match in all."""


class JobRepository(Protocol):
    """Claims that make scheduled work happen once per period: leased, and fenced by a token."""

    async def claim(
        self, group_id: str, job: str, period: str, owner: str, now: datetime, lease_seconds: float
    ) -> int | None:
        """Claim a period (or take over one whose lease ran out); the claim's fencing token, or
        None if a live claim holds it or it is done. `now` is real time."""

    async def renew(
        self, group_id: str, job: str, period: str, token: int, now: datetime, lease_seconds: float
    ) -> bool:
        """Extend the lease of a claim held with `token`; False if it was lost."""

    async def holds(self, group_id: str, job: str, period: str, token: int) -> bool:
        """The fence: True (and the claim locked until commit) if `token` still holds it."""

    async def finish(self, group_id: str, job: str, period: str, token: int | None = None) -> bool:
        """Mark a claimed period done (only by the holder of `token`, when given)."""

    async def release(self, group_id: str, job: str, period: str, token: int | None = None) -> bool:
        """Give up a claim so that a later tick (of any process) retries at once."""

    async def done(self, group_id: str, job: str, period: str) -> bool:
        """True if the period was done."""


class EventLog(Protocol):
    """Platform events already handled, so duplicate deliveries are ignored."""

    async def first_time(self, group_id: str, key: str, now: datetime) -> bool:
        """Record the key; True only the first time it is seen."""

    async def first_within(self, group_id: str, key: str, now: datetime, window: timedelta) -> bool:
        """Record the key; False if it was recorded less than `window` before `now` (atomic:
        of two processes recording it at once, one gets True)."""

    async def forget(self, group_id: str, key: str) -> None:
        """Drop a recorded key, so the same thing may be done again at once."""


class KeyValue(Protocol):
    """Small per-group facts (a command hash, an alert sent)."""

    async def get(self, group_id: str, key: str) -> str | None:
        """A stored value."""

    async def set(self, group_id: str, key: str, value: str) -> None:
        """Store a value."""


class UnitOfWork(Protocol):
    """One transaction over every repository; commits on clean exit, rolls back on error."""

    groups: GroupRepository
    categories: CategoryRepository
    roles: RoleRepository
    members: MemberRepository
    jobs: JobRepository
    events: EventLog
    kv: KeyValue
    cohorts: CohortRepository
    invitations: InvitationRepository
    roster: RosterRepository
    requests: RequestRepository
    grants: GrantRepository
    prompts: PromptRepository
    posts: PostRepository
    activity: ActivityRepository
    profiles: ProfileRepository
    pairs: PairRepository
    privacy: PrivacyRepository
    outbox: OutboxRepository
    mail_preferences: MailPreferences
    mail_invitations: MailInvitationRepository
    dashboard: DashboardRepository

    async def __aenter__(self) -> UnitOfWork:
        """Begin."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Commit or roll back."""

    async def commit(self) -> None:
        """Commit now (the unit stays usable)."""


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work per operation."""

    def __call__(self) -> UnitOfWork:
        """A new unit of work."""


JSON = dict[str, Any]
