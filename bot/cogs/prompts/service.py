"""The weekly questions' use cases: post, recap, suggest, decide, add, list, schedule, roles."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.channels import CategoryChannels, Named
from bot.cogs.privacy.service import PrivacyService
from bot.cogs.prompts import views
from bot.cogs.prompts.bank import OPEN_THEME, THEMES, BankQuestion, load_bank
from bot.cogs.prompts.plan import (
    LOW_QUEUE,
    MANUAL,
    MAX_LENGTH,
    MIN_GAP,
    choose,
    moved_order,
    next_slot,
    normalised,
    parse_day,
    parse_time,
    plan_refill,
    queue_order,
    scheduled,
)
from bot.cogs.prompts.records import (
    AskedThisWeek,
    Decision,
    Overview,
    Prompt,
    PromptRun,
    PromptStatus,
    Recap,
    Slot,
    ThisWeek,
)
from bot.cogs.prompts.settings import PromptsSettings
from bot.domain import Actor, Group, RoleRecord, TrustedRole
from bot.errors import PermissionDenied, UserError
from bot.events import MessageRef
from bot.i18n import week
from bot.messages import OutgoingMessage
from bot.ports import Clock, UnitOfWork, UnitOfWorkFactory, Workspace
from bot.safety import neutralise

log = logging.getLogger(__name__)

LOW_ALERT_KEY = "prompts.low_queue_alert"
RECAP_AFTER = timedelta(days=7)
THEME_CHOICES = (*THEMES, OPEN_THEME)
MAX_POLL_ANSWER = 55
DISCUSSION = TrustedRole.DISCUSSION.value


def _poll_key(prompt_id: int) -> str:
    return f"prompts.poll.{prompt_id}"


@dataclass(frozen=True)
class _Reserved:
    """A period's run reserved for a question, and what its message needs."""

    run_id: int
    role_id: str | None
    suggester: str | None
    options: tuple[str, ...]


class PromptsService:
    """A question a week in #discussion, its thread counted by role, and a recap a week later."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        clock: Clock,
        privacy: PrivacyService,
        bank: tuple[BankQuestion, ...] | None = None,
        flush: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.uow = uow
        # Writes the message counts still in memory (the stats' recorder) before reading them.
        self.flush = flush
        self.workspace = workspace
        self.clock = clock
        self.privacy = privacy
        # An attribute, not a constant, so a test can give a group a smaller bank.
        self.bank: tuple[BankQuestion, ...] = load_bank() if bank is None else bank

    # -- posting ------------------------------------------------------------------------------

    async def weekly(self, group: Group, period: str) -> Prompt | None:
        """The week's question; a late one takes the place of a slot right after it (None)."""
        now = self.clock.now()
        async with self.uow() as uow:
            runs = scheduled(await uow.prompts.runs(group.id))
        if runs and now - runs[-1].posted_at < MIN_GAP:
            log.info("prompt %s for %s skipped: the last one went out recently", period, group.id)
            return None
        return await self.post(group, period)

    async def post_now(self, group: Group, confirmed: int | None = None) -> Prompt | AskedThisWeek:
        """Post the next question right away (the weekly one still comes). In a week that had
        a question already, staff are asked first: `confirmed` is the count they saw when they
        said yes, and a question posted since (by anyone) makes the bot ask again. Refused
        when there is nowhere or nothing to post."""
        now = self.clock.now()
        tz = ZoneInfo(group.timezone)
        year, week_no, _ = now.astimezone(tz).isocalendar()
        async with self.uow() as uow:
            runs = [
                r
                for r in await uow.prompts.runs(group.id)
                if r.posted_at.astimezone(tz).isocalendar()[:2] == (year, week_no)
            ]
            last = await uow.prompts.get(group.id, runs[-1].prompt_id) if runs else None
        if runs and confirmed != len(runs):
            return AskedThisWeek(len(runs), last)
        # One period per question of the week: two staff (or two processes, or a double
        # click) confirming the same count reserve the same run, and one of them posts.
        period = f"{MANUAL}{year}-W{week_no:02}-{len(runs) + 1}"
        prompt = await self.post(group, period)
        if prompt is None:
            async with self.uow() as uow:
                taken = any(r.period == period for r in await uow.prompts.runs(group.id))
            if taken:
                raise UserError("prompts.now_taken")
            raise UserError("prompts.nothing_posted", channel=(await self.channel(group)).name)
        return prompt

    async def post(self, group: Group, period: str) -> Prompt | None:
        """Post the next question for a period: reserve the period's run, send, then record
        where it went. None when there is nowhere or nothing to post, or the period has its
        question already (another process, or a second run of the job)."""
        now = self.clock.now()
        lang = group.language
        reserved: _Reserved | None = None
        async with self.uow() as uow:
            discussion = await uow.categories.get(group.id, "discussion")
            if discussion is None or discussion.channel_id is None:
                log.info("no #discussion channel in %s: question %s not posted", group.id, period)
                return None
            await self._refill(uow, group, now)
            queue = await uow.prompts.for_group(group.id, PromptStatus.ACCEPTED)
            runs = await uow.prompts.runs(group.id)
            last = await uow.prompts.get(group.id, runs[-1].prompt_id) if runs else None
            prompt = choose(queue, last.theme if last else None, now)
            if prompt is None:
                alert = await self._claim_alert(uow, group, 0)
            else:
                reserved = await self._reserve(
                    uow, group, prompt, period, discussion.channel_id, now
                )
        if prompt is None:
            if alert is not None:
                await self._alert(group, alert, 0)
            return None
        if reserved is None:
            return None
        # The platform calls happen outside the transaction so the database is never held.
        message, uncredited = views.question(
            lang,
            prompt,
            reserved.options,
            polls=self.workspace.capabilities.polls,
            role_id=reserved.role_id,
            suggester=reserved.suggester,
        )
        try:
            ref = await self.workspace.send(group.id, discussion.channel_id, message)
        except Exception:
            async with self.uow() as uow:
                await uow.prompts.drop_run(reserved.run_id)
            raise
        if prompt.suggested_by:
            await self._remember(group, ref, [prompt.suggested_by], uncredited)
        thread_id: str | None
        try:
            thread_id = await self.workspace.open_thread(
                group.id, ref, views.thread_name(lang, prompt)
            )
        except Exception:
            # The question is out; replies in the channel still count as discussion.
            log.exception("could not open a thread for question %s in %s", prompt.id, group.id)
            thread_id = None
        async with self.uow() as uow:
            await uow.prompts.complete_run(reserved.run_id, ref.id, thread_id, prompt.id)
            await uow.prompts.mark_posted(group.id, prompt.id, now)
            await self._refill(uow, group, now)
            remaining = len(await uow.prompts.for_group(group.id, PromptStatus.ACCEPTED))
            alert = await self._claim_alert(uow, group, remaining)
        if alert is not None:
            await self._alert(group, alert, remaining)
        log.info("posted question %s (%s) in %s for %s", prompt.id, prompt.theme, group.id, period)
        return prompt

    async def _reserve(
        self,
        uow: UnitOfWork,
        group: Group,
        prompt: Prompt,
        period: str,
        channel_id: str,
        now: datetime,
    ) -> _Reserved | None:
        """Reserve the period's run for a question, with what its message needs; None if the
        period has a run already."""
        run_id = await uow.prompts.reserve_run(group.id, prompt.id, period, channel_id, now)
        if run_id is None:
            return None
        role = await uow.roles.get(group.id, DISCUSSION)
        name = None
        if prompt.suggested_by:
            suggester = await uow.members.get(group.id, prompt.suggested_by)
            name = neutralise(suggester.name if suggester else prompt.suggested_by)
        raw_options = await uow.kv.get(group.id, _poll_key(prompt.id))
        return _Reserved(
            run_id,
            role.platform_id if role else None,
            name,
            tuple(json.loads(raw_options)) if raw_options else (),
        )

    async def _refill(self, uow: UnitOfWork, group: Group, now: datetime) -> None:
        queue = await uow.prompts.for_group(group.id, PromptStatus.ACCEPTED)
        posted = await uow.prompts.for_group(group.id, PromptStatus.POSTED)
        held = await uow.prompts.bank_ids(group.id)
        plan = plan_refill(self.bank, held, queue, posted, now)
        for q in plan.from_bank:
            await uow.prompts.add(
                Prompt(
                    0,
                    group.id,
                    q.theme,
                    q.en,
                    PromptStatus.ACCEPTED,
                    now,
                    text_nb=q.nb,
                    bank_id=q.id,
                )
            )
        for p in plan.requeue:
            await uow.prompts.requeue(group.id, p.id)

    async def _rearm_alert(self, uow: UnitOfWork, group: Group) -> None:
        """Once the queue is long enough again, the next shortage alerts staff again."""
        queue = await uow.prompts.for_group(group.id, PromptStatus.ACCEPTED)
        if len(queue) >= LOW_QUEUE and await uow.kv.get(group.id, LOW_ALERT_KEY) == "1":
            await uow.kv.set(group.id, LOW_ALERT_KEY, "0")

    async def _claim_alert(self, uow: UnitOfWork, group: Group, remaining: int) -> str | None:
        """Staff are told once when the queue runs low, again only after it was refilled: the
        review channel to alert when an alert is due now (claimed), else None."""
        sent = await uow.kv.get(group.id, LOW_ALERT_KEY) == "1"
        if remaining >= LOW_QUEUE:
            if sent:
                await uow.kv.set(group.id, LOW_ALERT_KEY, "0")
            return None
        if sent:
            return None
        review = await uow.categories.get(group.id, "review")
        if review is None or review.channel_id is None:
            return None
        await uow.kv.set(group.id, LOW_ALERT_KEY, "1")
        return review.channel_id

    async def _alert(self, group: Group, channel_id: str, remaining: int) -> None:
        # Claimed before sending: a crash here loses one alert rather than sending two; a
        # refusal hands the claim back so the next posting tries again.
        try:
            await self.workspace.send(
                group.id, channel_id, views.low_queue(group.language, remaining)
            )
        except Exception:
            log.exception("could not alert staff in %s that the queue runs low", group.id)
            async with self.uow() as uow:
                await uow.kv.set(group.id, LOW_ALERT_KEY, "0")

    async def _remember(
        self, group: Group, ref: MessageRef, user_ids: Sequence[str], without: OutgoingMessage
    ) -> None:
        """Record who a message names, so erasing them edits it to `without`."""
        await self.privacy.remember(group.id, ref, list(user_ids), without)

    # -- engagement and recap -----------------------------------------------------------------

    async def recaps(self, group: Group) -> list[Recap]:
        """The recap of every run a week old, each once (recaps run before the new question)."""
        now = self.clock.now()
        async with self.uow() as uow:
            due = await uow.prompts.runs_due_recap(group.id, now - RECAP_AFTER)
        done = [await self.recap(group, run, now) for run in due]
        return [r for r in done if r is not None]

    async def recap(self, group: Group, run: PromptRun, now: datetime) -> Recap | None:
        """Thank the thread with who replied by role, and give staff the numbers; None when
        the recap was already sent (claimed in the database, so exactly once)."""
        async with self.uow() as uow:
            if not await uow.prompts.claim_recap(run.id, now):
                return None
            # The stats feature counts every message; the recap reads its rows by thread.
            counts = (
                await uow.activity.count_by_role(group.id, run.thread_id) if run.thread_id else {}
            )
            prompt = await uow.prompts.get(group.id, run.prompt_id)
            done = Recap(run, prompt, counts)
            if prompt is not None:
                await uow.prompts.set_score(group.id, prompt.id, done.total)
            review = await uow.categories.get(group.id, "review")
        lang = group.language
        # The week people knew the question by, never the period key ("2026-W34", "now-...").
        asked = week(lang, run.posted_at.astimezone(PromptsSettings.of(group).zone))
        try:
            await self.workspace.send(
                group.id, run.channel_id, views.recap(lang, done, asked), thread_id=run.thread_id
            )
        except Exception:
            async with self.uow() as uow:
                await uow.prompts.unclaim_recap(run.id)
            raise
        if review is not None and review.channel_id is not None:
            try:
                await self.workspace.send(
                    group.id, review.channel_id, views.staff_numbers(lang, done, asked)
                )
            except Exception:
                log.exception("could not send the week's numbers to staff in %s", group.id)
        return done

    # -- questions ----------------------------------------------------------------------------

    async def _clean(self, group: Group, text: str, besides: int | None = None) -> str:
        """The question as stored: spacing collapsed, mentions defused; refused when empty,
        too long, or already there (in the group, unless rejected or it is question
        `besides` itself, or in the bank)."""
        text = neutralise(" ".join(text.split()))
        if not text:
            raise UserError("prompts.empty")
        if len(text) > MAX_LENGTH:
            raise UserError("prompts.too_long", limit=MAX_LENGTH, length=len(text))
        key = normalised(text)
        async with self.uow() as uow:
            existing = await uow.prompts.for_group(group.id)
        for p in existing:
            if p.id == besides:
                continue
            if p.status is not PromptStatus.REJECTED and key in (
                normalised(p.text),
                normalised(p.text_nb or ""),
            ):
                raise views.duplicate(group.language, p)
        for q in self.bank:
            if key in (normalised(q.en), normalised(q.nb)):
                raise views.duplicate_of_bank(group.language, q)
        return text

    async def add(
        self,
        group: Group,
        actor: Actor,
        text: str,
        theme: str = OPEN_THEME,
        options: str = "",
        text_nb: str = "",
    ) -> Prompt:
        """Staff add a question straight to the queue, optionally with poll answers
        (`options`: "Yes|No|It depends", 2 to 10 of them) and its Norwegian words."""
        if not actor.is_staff:
            raise PermissionDenied("prompts.staff_only")
        if theme not in THEME_CHOICES:
            raise views.theme_invalid(group.language, neutralise(theme), THEME_CHOICES)
        clean = await self._clean(group, text)
        clean_nb = await self._clean(group, text_nb) if text_nb.strip() else None
        answers = [neutralise(a.strip())[:MAX_POLL_ANSWER] for a in options.split("|") if a.strip()]
        if options and not 2 <= len(answers) <= 10:
            raise UserError("prompts.options_invalid")
        async with self.uow() as uow:
            prompt = await uow.prompts.add(
                Prompt(
                    0,
                    group.id,
                    theme,
                    clean,
                    PromptStatus.ACCEPTED,
                    self.clock.now(),
                    text_nb=clean_nb,
                    decided_by=actor.id,
                )
            )
            if answers:
                await uow.kv.set(group.id, _poll_key(prompt.id), json.dumps(answers))
            await self._rearm_alert(uow, group)
        return prompt

    async def edit(
        self, group: Group, actor: Actor, prompt_id: int, text: str, text_nb: str = ""
    ) -> Prompt:
        """Staff change a waiting question's words (English, and Norwegian if given; empty
        Norwegian removes it); a posted or rejected question keeps the words it had."""
        if not actor.is_staff:
            raise PermissionDenied("prompts.staff_only")
        async with self.uow() as uow:
            prompt = await uow.prompts.get(group.id, prompt_id)
        if prompt is None:
            raise UserError("prompts.unknown")
        clean = await self._clean(group, text, besides=prompt.id)
        clean_nb = await self._clean(group, text_nb, besides=prompt.id) if text_nb.strip() else None
        async with self.uow() as uow:
            if not await uow.prompts.set_text(group.id, prompt.id, clean, clean_nb):
                raise UserError("prompts.not_editable")
        return replace(prompt, text=clean, text_nb=clean_nb)

    async def move(self, group: Group, actor: Actor, prompt_id: int, up: bool) -> Prompt:
        """Staff move a queued question one place earlier (`up`) or later; the first stays
        first, the last stays last."""
        if not actor.is_staff:
            raise PermissionDenied("prompts.staff_only")
        async with self.uow() as uow:
            # Two staff moving at once: the second reads the order the first left.
            await uow.prompts.lock_queue(group.id)
            queue = await uow.prompts.for_group(group.id, PromptStatus.ACCEPTED)
            positions = moved_order(queue, prompt_id, up)
            if positions is None:
                raise UserError("prompts.not_queued")
            await uow.prompts.set_positions(group.id, positions)
        moved = next(p for p in queue if p.id == prompt_id)
        return replace(moved, position=positions[prompt_id])

    async def this_week(self, group: Group) -> ThisWeek | None:
        """The latest question posted and its replies so far by role; None before the first."""
        if self.flush is not None:
            await self.flush()  # messages are counted in batches: this week's so far, all
        async with self.uow() as uow:
            runs = await uow.prompts.runs(group.id)
            if not runs:
                return None
            run = runs[-1]
            prompt = await uow.prompts.get(group.id, run.prompt_id)
            counts = (
                await uow.activity.count_by_role(group.id, run.thread_id) if run.thread_id else {}
            )
        return ThisWeek(run, prompt, counts)

    async def suggest(self, group: Group, actor: Actor, text: str) -> Prompt:
        """A member suggests a question; it waits in the review channel for staff's decision."""
        clean = await self._clean(group, text)
        async with self.uow() as uow:
            review = await uow.categories.get(group.id, "review")
            if review is None or review.channel_id is None:
                raise UserError("prompts.not_set_up")
            prompt = await uow.prompts.add(
                Prompt(
                    0,
                    group.id,
                    OPEN_THEME,
                    clean,
                    PromptStatus.SUGGESTED,
                    self.clock.now(),
                    suggested_by=actor.id,
                )
            )
        lang = group.language
        ref = await self.workspace.send(
            group.id, review.channel_id, views.review(lang, prompt, neutralise(actor.name))
        )
        await self._remember(
            group, ref, [actor.id], views.review(lang, prompt, views.another_member(lang))
        )
        return prompt

    async def accept(
        self, group: Group, actor: Actor, prompt_id: int, message: MessageRef | None = None
    ) -> Decision:
        """Staff accept a suggestion into the queue (`message`: its review post, redrawn)."""
        return await self._decide(group, actor, prompt_id, PromptStatus.ACCEPTED, message)

    async def reject(
        self, group: Group, actor: Actor, prompt_id: int, message: MessageRef | None = None
    ) -> Decision:
        """Staff reject a suggestion; it is never posted."""
        return await self._decide(group, actor, prompt_id, PromptStatus.REJECTED, message)

    async def _decide(
        self,
        group: Group,
        actor: Actor,
        prompt_id: int,
        status: PromptStatus,
        message: MessageRef | None,
    ) -> Decision:
        # The buttons declare staff and the core checks that first; the use case checks again,
        # so no other caller (the dashboard, a job) can decide for a member (fails closed).
        if not actor.is_staff:
            raise PermissionDenied("prompts.decide_denied")
        lang = group.language
        async with self.uow() as uow:
            prompt = await uow.prompts.get(group.id, prompt_id)
            if prompt is None:
                raise UserError("core.button_unknown")
            if not await uow.prompts.decide(group.id, prompt_id, status, actor.id):
                raise views.already_decided(lang, prompt)
            await self._rearm_alert(uow, group)
        decided = replace(prompt, status=status, decided_by=actor.id)
        decision = Decision(decided, status, neutralise(actor.name))
        if message is not None:
            await self.workspace.edit(
                group.id, message, views.decided(lang, prompt, status, decision.by)
            )
            # The post now names the staff member who decided, and no longer the suggester.
            await self._remember(
                group,
                message,
                [actor.id],
                views.decided(lang, prompt, status, views.another_member(lang)),
            )
        if prompt.suggested_by:
            try:
                await self.workspace.send_dm(
                    group.id, prompt.suggested_by, views.your_decision(lang, prompt, status)
                )
            except Exception:
                log.warning("could not tell %s about their suggestion", prompt.suggested_by)
        return decision

    async def overview(self, group: Group) -> Overview:
        """The schedule, the queue (staff's first, then the bank's), suggestions, the count."""
        now = self.clock.now()
        async with self.uow() as uow:
            await self._refill(uow, group, now)
            queue = await uow.prompts.for_group(group.id, PromptStatus.ACCEPTED)
            pending = await uow.prompts.for_group(group.id, PromptStatus.SUGGESTED)
            runs = await uow.prompts.runs(group.id)
        settings = PromptsSettings.of(group)
        queue.sort(key=queue_order)
        channel = (await self.channel(group)).name
        slot = Slot(settings, next_slot(settings, scheduled(runs), now), channel)
        return Overview(slot, tuple(queue), tuple(pending), len(runs))

    # -- schedule -----------------------------------------------------------------------------

    async def slot(self, group: Group, settings: PromptsSettings | None = None) -> Slot:
        """The group's schedule and when its next question is due."""
        settings = settings or PromptsSettings.of(group)
        async with self.uow() as uow:
            runs = scheduled(await uow.prompts.runs(group.id))
        channel = (await self.channel(group)).name
        return Slot(settings, next_slot(settings, runs, self.clock.now()), channel)

    async def channel(self, group: Group) -> Named:
        """The channel questions go to, as the group names it."""
        return await CategoryChannels(self.uow, self.workspace).named(group, "discussion")

    async def schedule(
        self,
        group: Group,
        day: str | None = None,
        time: str | None = None,
        timezone: str | None = None,
    ) -> Slot:
        """Change the weekly slot (a weekday in English or Norwegian, "18:30", a timezone);
        with nothing to change, the slot as it is. Nothing is saved if any value is wrong."""
        settings = PromptsSettings.of(group)
        changes: dict[str, object] = {}
        if day is not None:
            weekday = parse_day(day)
            if weekday is None:
                raise UserError("prompts.day_invalid", value=neutralise(day))
            changes["day"] = weekday
        if time is not None:
            at = parse_time(time)
            if at is None:
                raise UserError("prompts.time_invalid", value=neutralise(time))
            changes["time"] = at
        if timezone is not None:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise UserError("setup.timezone_unknown", timezone=neutralise(timezone)) from exc
            changes["timezone"] = timezone
        if changes:
            # A slot that already passed this week does not fire the moment it is set.
            changes["not_before"] = self.clock.now()
            settings = await self._save(group, settings.model_copy(update=changes))
        return await self.slot(group, settings)

    async def pause(self, group: Group) -> PromptsSettings:
        """Stop the weekly question until resumed."""
        return await self._save(
            group, PromptsSettings.of(group).model_copy(update={"paused": True})
        )

    async def resume(self, group: Group) -> Slot:
        """Start the weekly question again from the next slot (a missed one is not posted)."""
        resumed = PromptsSettings.of(group).model_copy(
            update={"paused": False, "not_before": self.clock.now()}
        )
        return await self.slot(group, await self._save(group, resumed))

    async def _save(self, group: Group, settings: PromptsSettings) -> PromptsSettings:
        async with self.uow() as uow:
            await uow.groups.set_settings(group.id, settings)
        return settings

    async def home_notes(self, group: Group, actor: Actor) -> list[str]:
        """A line for a member's home view: when the next question comes."""
        return views.home_notes(group.language, await self.slot(group))

    # -- the discussion role ------------------------------------------------------------------

    async def join(self, group: Group, actor: Actor) -> RoleRecord:
        """Take the opt-in discussion role, which each question pings."""
        return await self._discussion_role(group, actor, join=True)

    async def leave(self, group: Group, actor: Actor) -> RoleRecord:
        """Drop the discussion role."""
        return await self._discussion_role(group, actor, join=False)

    async def _discussion_role(self, group: Group, actor: Actor, *, join: bool) -> RoleRecord:
        async with self.uow() as uow:
            role = await uow.roles.get(group.id, DISCUSSION)
        if role is None or role.platform_id is None:
            raise UserError("prompts.not_set_up")
        # Only this one role: it is not trusted, so self-selection is all it needs. The
        # platform is told first; the database records what the platform accepted.
        pid = role.platform_id
        await self.workspace.set_roles(
            group.id, actor.id, add=[pid] if join else [], remove=[] if join else [pid]
        )
        async with self.uow() as uow:
            if join:
                await uow.roles.grant(
                    group.id, actor.id, DISCUSSION, "self", actor.id, self.clock.now()
                )
            else:
                await uow.roles.revoke(group.id, actor.id, DISCUSSION)
        return role
