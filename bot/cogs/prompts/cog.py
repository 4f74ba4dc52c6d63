"""Weekly discussion questions: the life cycle, the schedule, engagement and recaps."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.activity import ROLES
from bot.cog import Cog, button, command, job
from bot.cogs.privacy.service import PrivacyService
from bot.cogs.prompts.bank import OPEN_THEME, THEMES, BankQuestion, load_bank
from bot.cogs.prompts.plan import (
    DAYS,
    DAYS_NB,
    LOW_QUEUE,
    MAX_LENGTH,
    MIN_GAP,
    Schedule,
    choose,
    due_period,
    hour_period,
    normalised,
    parse_day,
    parse_time,
    plan_refill,
)
from bot.commands import Option, OptionType
from bot.core import Bot, Context
from bot.domain import Group, Permission
from bot.errors import PermissionDenied, UserError
from bot.events import ButtonPressed
from bot.i18n import number, percent, t, week
from bot.messages import Button, ButtonStyle, OutgoingMessage, Poll
from bot.ports import UnitOfWork
from bot.prompts_records import Prompt, PromptRun, PromptStatus
from bot.safety import clip, neutralise

log = logging.getLogger(__name__)

LOW_ALERT_KEY = "prompts.low_queue_alert"
MANUAL = "now-"
RECAP_AFTER = timedelta(days=7)
_THEME_CHOICES = (*THEMES, OPEN_THEME)
_TEXT = Option("text", rest=True, max_length=4000)


def _poll_key(prompt_id: int) -> str:
    return f"prompts.poll.{prompt_id}"


class PromptsCog(Cog):
    """A question a week in #discussion, its thread counted by role, and a recap a week later."""

    name = "prompts"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        # An attribute, not a constant, so a test can give a group a smaller bank.
        self.bank: tuple[BankQuestion, ...] = load_bank()

    # -- schedule -------------------------------------------------------------------------

    def _weekly_due(self, group: Group, now: datetime) -> str | None:
        return due_period(group, now)

    def _recap_due(self, group: Group, now: datetime) -> str | None:
        return hour_period(group, now)

    @job("prompts.recap", period=_recap_due)
    async def recap_job(self, group: Group, period: str) -> None:
        """Post the recap of every run a week old (recaps run before the new question)."""
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            due = await uow.prompts.runs_due_recap(group.id, now - RECAP_AFTER)
        for run in due:
            await self._recap(group, run, now)

    @job("prompts.weekly", period=_weekly_due)
    async def weekly_job(self, group: Group, period: str) -> None:
        """Post the week's question; a late one takes the place of a slot right after it."""
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            runs = [r for r in await uow.prompts.runs(group.id) if not r.period.startswith(MANUAL)]
        if runs and now - runs[-1].posted_at < MIN_GAP:
            log.info("prompt %s for %s skipped: the last one went out recently", period, group.id)
            return
        await self.post(group, period)

    # -- posting --------------------------------------------------------------------------

    async def post(self, group: Group, period: str) -> Prompt | None:
        """Post the next question for a period; None when there is nowhere or nothing to post."""
        ws = self.bot.workspace
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
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
                await self._alert_low(uow, group, 0)
                return None
            run_id = await uow.prompts.reserve_run(
                group.id, prompt.id, period, discussion.channel_id, now
            )
            if run_id is None:
                return None
            role = await uow.roles.get(group.id, "discussion")
            suggester = (
                await uow.members.get(group.id, prompt.suggested_by)
                if prompt.suggested_by
                else None
            )
            raw_options = await uow.kv.get(group.id, _poll_key(prompt.id))
        question = prompt.text_in(group.language.value)
        lines = [question]
        options: list[str] = json.loads(raw_options) if raw_options else []
        poll = None
        if options and ws.capabilities.polls:
            poll = Poll(clip(question, 300), tuple(options), hours=24 * 7)
        elif options:
            lines += [f"- {o}" for o in options]
        answer_hint = t(group.language, "prompts.answer_in_thread")
        # The question as it reads without its suggester (their erasure edits it to this).
        uncredited = OutgoingMessage(
            "\n".join([*lines, answer_hint]), title=t(group.language, "prompts.post_title")
        )
        if prompt.suggested_by:
            name = suggester.name if suggester else prompt.suggested_by
            lines.append(t(group.language, "prompts.credit", name=neutralise(name)))
        lines.append(answer_hint)
        message = OutgoingMessage(
            "\n".join(lines),
            title=t(group.language, "prompts.post_title"),
            ping_roles=(role.platform_id,) if role and role.platform_id else (),
            ping_users=(prompt.suggested_by,) if prompt.suggested_by else (),
            poll=poll,
        )
        try:
            ref = await ws.send(group.id, discussion.channel_id, message)
        except Exception:
            async with self.bot.uow() as uow:
                await uow.prompts.drop_run(run_id)
            raise
        if prompt.suggested_by:
            await self.bot.service(PrivacyService).remember(
                group.id, ref, [prompt.suggested_by], uncredited
            )
        thread_id: str | None
        try:
            thread_id = await ws.open_thread(group.id, ref, clip(question, 90))
        except Exception:
            # The question is out; replies in the channel still count as discussion.
            log.exception("could not open a thread for question %s in %s", prompt.id, group.id)
            thread_id = None
        async with self.bot.uow() as uow:
            await uow.prompts.complete_run(run_id, ref.id, thread_id, prompt.id)
            await uow.prompts.mark_posted(group.id, prompt.id, now)
            await self._refill(uow, group, now)
            remaining = await uow.prompts.for_group(group.id, PromptStatus.ACCEPTED)
            await self._alert_low(uow, group, len(remaining))
        log.info("posted question %s (%s) in %s for %s", prompt.id, prompt.theme, group.id, period)
        return prompt

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

    async def _alert_low(self, uow: UnitOfWork, group: Group, remaining: int) -> None:
        """Tell staff once when the queue runs low; again only after it was refilled."""
        sent = await uow.kv.get(group.id, LOW_ALERT_KEY) == "1"
        if remaining >= LOW_QUEUE:
            if sent:
                await uow.kv.set(group.id, LOW_ALERT_KEY, "0")
            return
        if sent:
            return
        review = await uow.categories.get(group.id, "review")
        if review is None or review.channel_id is None:
            return
        await self.bot.workspace.send(
            group.id,
            review.channel_id,
            OutgoingMessage(t(group.language, "prompts.low_queue", count=remaining)),
        )
        await uow.kv.set(group.id, LOW_ALERT_KEY, "1")

    # -- engagement and recap -------------------------------------------------------------

    async def _recap(self, group: Group, run: PromptRun, now: datetime) -> None:
        async with self.bot.uow() as uow:
            if not await uow.prompts.claim_recap(run.id, now):
                return
            counts = (
                await uow.activity.count_by_role(group.id, run.thread_id) if run.thread_id else {}
            )
            prompt = await uow.prompts.get(group.id, run.prompt_id)
            total = sum(counts.values())
            if prompt is not None:
                await uow.prompts.set_score(group.id, prompt.id, total)
            review = await uow.categories.get(group.id, "review")
        lang = group.language
        # The week people knew the question by, never the period key ("2026-W34", "now-...").
        asked = week(lang, run.posted_at.astimezone(ZoneInfo(Schedule.of(group).timezone)))
        try:
            await self.bot.workspace.send(
                group.id,
                run.channel_id,
                OutgoingMessage(recap_text(lang.value, counts, asked)),
                thread_id=run.thread_id,
            )
        except Exception:
            async with self.bot.uow() as uow:
                await uow.prompts.unclaim_recap(run.id)
            raise
        if review is None or review.channel_id is None:
            return
        question = clip(prompt.text_in(lang.value), 120) if prompt else "?"
        fields = tuple(
            (
                t(lang, f"prompts.role_{role}"),
                t(lang, "prompts.role_value", count=n, share=percent(lang, n / total))
                if total
                else number(lang, n),
            )
            for role, n in ((role, counts.get(role, 0)) for role in ROLES)
        )
        try:
            await self.bot.workspace.send(
                group.id,
                review.channel_id,
                OutgoingMessage(
                    t(lang, "prompts.staff_numbers", question=question, count=total),
                    title=t(lang, "prompts.staff_numbers_title", week=asked),
                    fields=fields,
                ),
            )
        except Exception:
            log.exception("could not send the week's numbers to staff in %s", group.id)

    # -- commands -------------------------------------------------------------------------

    async def _clean(self, ctx: Context, text: str) -> str:
        text = neutralise(" ".join(text.split()))
        if not text:
            raise UserError("prompts.empty")
        if len(text) > MAX_LENGTH:
            raise UserError("prompts.too_long", limit=MAX_LENGTH, length=len(text))
        key = normalised(text)
        async with self.bot.uow() as uow:
            existing = await uow.prompts.for_group(ctx.group.id)
        for p in existing:
            if p.status is not PromptStatus.REJECTED and key in (
                normalised(p.text),
                normalised(p.text_nb or ""),
            ):
                raise UserError(
                    "prompts.duplicate",
                    text=clip(p.text_in(ctx.lang.value), 200),
                    status=ctx.t(f"prompts.status_{p.status.value}"),
                )
        for q in self.bank:
            if key in (normalised(q.en), normalised(q.nb)):
                raise UserError(
                    "prompts.duplicate",
                    text=clip(q.nb if ctx.lang.value == "nb" else q.en, 200),
                    status=ctx.t("prompts.status_bank"),
                )
        return text

    @command(
        "prompt add",
        permission=Permission.STAFF,
        help_key="prompts.add_help",
        options=(
            Option("theme", OptionType.CHOICE, choices=_THEME_CHOICES),
            Option("options", max_length=400),
            _TEXT,
        ),
    )
    async def add(
        self, ctx: Context, text: str = "", theme: str = OPEN_THEME, options: str = ""
    ) -> None:
        """Staff add a question straight to the queue (optionally with poll answers)."""
        clean = await self._clean(ctx, text)
        answers = [neutralise(a.strip())[:55] for a in options.split("|") if a.strip()]
        if options and not 2 <= len(answers) <= 10:
            raise UserError("prompts.options_invalid")
        async with self.bot.uow() as uow:
            prompt = await uow.prompts.add(
                Prompt(
                    0,
                    ctx.group.id,
                    theme,
                    clean,
                    PromptStatus.ACCEPTED,
                    self.bot.clock.now(),
                    decided_by=ctx.user.id,
                )
            )
            if answers:
                await uow.kv.set(ctx.group.id, _poll_key(prompt.id), json.dumps(answers))
            await self._rearm_alert(uow, ctx.group)
        await ctx.say("prompts.added", text=clean, theme=theme)

    @command(
        "prompt suggest",
        permission=Permission.MEMBER,
        help_key="prompts.suggest_help",
        options=(_TEXT,),
    )
    async def suggest(self, ctx: Context, text: str = "") -> None:
        """A member suggests a question; staff accept or reject it with a button."""
        clean = await self._clean(ctx, text)
        async with self.bot.uow() as uow:
            review = await uow.categories.get(ctx.group.id, "review")
            if review is None or review.channel_id is None:
                raise UserError("prompts.not_set_up")
            prompt = await uow.prompts.add(
                Prompt(
                    0,
                    ctx.group.id,
                    OPEN_THEME,
                    clean,
                    PromptStatus.SUGGESTED,
                    self.bot.clock.now(),
                    suggested_by=ctx.user.id,
                )
            )
        who = neutralise(ctx.user.name or ctx.user.id)
        buttons = (
            Button(ctx.t("prompts.accept"), "prompts.accept", str(prompt.id), ButtonStyle.SUCCESS),
            Button(ctx.t("prompts.reject"), "prompts.reject", str(prompt.id), ButtonStyle.DANGER),
        )
        ref = await self.bot.workspace.send(
            ctx.group.id,
            review.channel_id,
            OutgoingMessage(clean, title=ctx.t("prompts.review_title", name=who), buttons=buttons),
        )
        anonymous = ctx.t("prompts.review_title", name=ctx.t("privacy.another_member"))
        await self.bot.service(PrivacyService).remember(
            ctx.group.id,
            ref,
            [ctx.user.id],
            OutgoingMessage(clean, title=anonymous, buttons=buttons),
        )
        await ctx.say("prompts.suggested")

    @button("prompts.accept")
    async def accept(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Staff accept a suggestion into the queue."""
        await self._decide(ctx, event, PromptStatus.ACCEPTED)

    @button("prompts.reject")
    async def reject(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Staff reject a suggestion."""
        await self._decide(ctx, event, PromptStatus.REJECTED)

    async def _decide(self, ctx: Context, event: ButtonPressed, status: PromptStatus) -> None:
        # Buttons bypass the command tree, so the staff check happens here (and fails closed).
        permission = await self.bot.permission_of(ctx.group, ctx.user)
        if permission.rank < Permission.STAFF.rank:
            raise PermissionDenied("prompts.decide_denied")
        try:
            prompt_id = int(event.value)
        except ValueError as exc:
            raise UserError("core.button_unknown") from exc
        async with self.bot.uow() as uow:
            prompt = await uow.prompts.get(ctx.group.id, prompt_id)
            if prompt is None:
                raise UserError("core.button_unknown")
            if not await uow.prompts.decide(ctx.group.id, prompt_id, status, ctx.user.id):
                raise UserError(
                    "prompts.already_decided", status=ctx.t(f"prompts.status_{prompt.status.value}")
                )
            await self._rearm_alert(uow, ctx.group)
        who = neutralise(ctx.user.name or ctx.user.id)
        outcome = ctx.t(f"prompts.decided_{status.value}", name=who)
        if event.message is not None:
            await self.bot.workspace.edit(
                ctx.group.id, event.message, OutgoingMessage(f"{prompt.text}\n{outcome}")
            )
            # The post now names the staff member who decided, and no longer the suggester.
            unnamed = ctx.t(f"prompts.decided_{status.value}", name=ctx.t("privacy.another_member"))
            await self.bot.service(PrivacyService).remember(
                ctx.group.id,
                event.message,
                [ctx.user.id],
                OutgoingMessage(f"{prompt.text}\n{unnamed}"),
            )
        await ctx.say(f"prompts.decided_{status.value}", name=who)
        if prompt.suggested_by:
            try:
                await self.bot.workspace.send_dm(
                    ctx.group.id,
                    prompt.suggested_by,
                    OutgoingMessage(
                        ctx.t(f"prompts.your_{status.value}", text=clip(prompt.text, 200))
                    ),
                )
            except Exception:
                log.warning("could not tell %s about their suggestion", prompt.suggested_by)

    @command("prompt list", permission=Permission.STAFF, help_key="prompts.list_help")
    async def list_(self, ctx: Context) -> None:
        """The schedule, the next questions and the suggestions waiting for a decision."""
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            await self._refill(uow, ctx.group, now)
            queue = await uow.prompts.for_group(ctx.group.id, PromptStatus.ACCEPTED)
            pending = await uow.prompts.for_group(ctx.group.id, PromptStatus.SUGGESTED)
            runs = await uow.prompts.runs(ctx.group.id)
        lines = [
            await self._schedule_line(ctx, now),
            ctx.t("prompts.queue_title", count=len(queue)),
        ]
        queue.sort(key=lambda p: (p.bank_id is not None, p.id))
        for p in queue[:5]:
            lines.append(f"- [{p.theme}] {clip(p.text_in(ctx.lang.value), 140)} (#{p.id})")
        lines.append(ctx.t("prompts.pending_title", count=len(pending)))
        for p in pending:
            lines.append(f"- {clip(p.text, 140)} (#{p.id})")
        lines.append(ctx.t("prompts.posted_count", count=len(runs)))
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    async def _schedule_line(self, ctx: Context, now: datetime) -> str:
        s = Schedule.of(ctx.group)
        days = DAYS_NB if ctx.lang.value == "nb" else DAYS
        key = "prompts.schedule_paused" if s.paused else "prompts.schedule_now"
        nxt = await self._next_slot(ctx.group.id, s, now)
        return ctx.t(
            key,
            day=days[s.weekday],
            time=f"{s.at:%H:%M}",
            timezone=s.timezone,
            next=f"{nxt:%Y-%m-%d %H:%M}",
        )

    async def home_notes(self, ctx: Context) -> list[str]:
        """A line for a member's home view: when the next question comes."""
        s = Schedule.of(ctx.group)
        if s.paused:
            return [ctx.t("prompts.home_paused")]
        nxt = await self._next_slot(ctx.group.id, s, self.bot.clock.now())
        local = nxt.astimezone(ZoneInfo(s.timezone))
        return [ctx.t("prompts.home_next", next=f"{local:%Y-%m-%d %H:%M}", timezone=s.timezone)]

    async def _next_slot(self, group_id: str, s: Schedule, now: datetime) -> datetime:
        async with self.bot.uow() as uow:
            runs = [r for r in await uow.prompts.runs(group_id) if not r.period.startswith(MANUAL)]
        nxt = s.next_slot(now)
        if runs and nxt - runs[-1].posted_at < MIN_GAP:
            # A late question just went out: it takes the place of this slot.
            nxt = s.next_slot(nxt)
        return nxt

    async def _save_schedule(self, ctx: Context, schedule: Schedule) -> None:
        async with self.bot.uow() as uow:
            fresh = await uow.groups.get(ctx.group.id) or ctx.group
            settings = dict(fresh.settings)
            settings["prompts"] = schedule.to_settings()
            group = replace(fresh, settings=settings)
            await uow.groups.update(group)
        ctx.group = group

    @command(
        "prompt schedule",
        permission=Permission.STAFF,
        help_key="prompts.schedule_help",
        options=(
            Option("day", OptionType.CHOICE, choices=(*DAYS, *DAYS_NB)),
            Option("time", max_length=5),
            Option("timezone", max_length=64),
        ),
    )
    async def schedule(
        self,
        ctx: Context,
        day: str | None = None,
        time: str | None = None,
        timezone: str | None = None,
    ) -> None:
        """Change the weekly slot; without options, show it."""
        s = Schedule.of(ctx.group)
        if day is not None:
            weekday = parse_day(day)
            assert weekday is not None  # the option's choices are exactly the day names
            s = replace(s, weekday=weekday)
        if time is not None:
            at = parse_time(time)
            if at is None:
                raise UserError("prompts.time_invalid", value=neutralise(time))
            s = replace(s, at=at)
        if timezone is not None:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise UserError("setup.timezone_unknown", timezone=neutralise(timezone)) from exc
            s = replace(s, timezone=timezone)
        if (day, time, timezone) != (None, None, None):
            # A slot that already passed this week does not fire the moment it is set.
            await self._save_schedule(ctx, replace(s, not_before=self.bot.clock.now()))
        await ctx.reply(OutgoingMessage(await self._schedule_line(ctx, self.bot.clock.now())))

    @command("prompt pause", permission=Permission.STAFF, help_key="prompts.pause_help")
    async def pause(self, ctx: Context) -> None:
        """Stop the weekly question until resumed."""
        await self._save_schedule(ctx, replace(Schedule.of(ctx.group), paused=True))
        await ctx.say("prompts.paused")

    @command("prompt resume", permission=Permission.STAFF, help_key="prompts.resume_help")
    async def resume(self, ctx: Context) -> None:
        """Start the weekly question again from the next slot."""
        s = replace(Schedule.of(ctx.group), paused=False, not_before=self.bot.clock.now())
        await self._save_schedule(ctx, s)
        await ctx.reply(OutgoingMessage(await self._schedule_line(ctx, self.bot.clock.now())))

    @command("prompt now", permission=Permission.STAFF, help_key="prompts.now_help")
    async def now(self, ctx: Context) -> None:
        """Post the next question right away (the weekly one still comes)."""
        when = self.bot.clock.now()
        period = f"{MANUAL}{when:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        prompt = await self.post(ctx.group, period)
        if prompt is None:
            raise UserError("prompts.nothing_posted")
        await ctx.say("prompts.posted_now", text=clip(prompt.text_in(ctx.lang.value), 200))

    @command("prompt join", permission=Permission.MEMBER, help_key="prompts.join_help")
    async def join(self, ctx: Context) -> None:
        """Take the opt-in discussion role, which is pinged for each question."""
        await self._discussion_role(ctx, join=True)

    @command("prompt leave", permission=Permission.MEMBER, help_key="prompts.leave_help")
    async def leave(self, ctx: Context) -> None:
        """Drop the discussion role."""
        await self._discussion_role(ctx, join=False)

    async def _discussion_role(self, ctx: Context, *, join: bool) -> None:
        async with self.bot.uow() as uow:
            role = await uow.roles.get(ctx.group.id, "discussion")
        if role is None or role.platform_id is None:
            raise UserError("prompts.not_set_up")
        # Only this one role: it is not trusted, so self-selection is all it needs.
        pid = role.platform_id
        await self.bot.workspace.set_roles(
            ctx.group.id, ctx.user.id, add=[pid] if join else [], remove=[] if join else [pid]
        )
        async with self.bot.uow() as uow:
            if join:
                await uow.roles.grant(
                    ctx.group.id,
                    ctx.user.id,
                    "discussion",
                    "self",
                    ctx.user.id,
                    self.bot.clock.now(),
                )
            else:
                await uow.roles.revoke(ctx.group.id, ctx.user.id, "discussion")
        await ctx.say("prompts.joined" if join else "prompts.left", role=role.name)


def recap_text(language: str, counts: dict[str, int], week_label: str) -> str:
    """The recap in the question's thread: the replies, then who wrote them as an aligned block.

    The block is fenced as code, so Discord and Slack show it in a fixed-width font and the
    counts and percentages line up; it lists only roles that replied.
    """
    total = sum(counts.values())
    if total == 0:
        return t(language, "prompts.recap_none", week=week_label)
    by_role = {role: counts.get(role, 0) for role in ROLES}
    # A role the recap does not name (older data) is counted with the members without one.
    by_role["member"] += sum(n for role, n in counts.items() if role not in by_role)
    rows = [(role, n) for role, n in by_role.items() if n]
    digits = max(len(number(language, n)) for _, n in rows)
    who = [
        " " * (digits - len(number(language, n)))
        + t(language, f"prompts.recap_from_{role}", count=n)
        for role, n in rows
    ]
    shares = [percent(language, n / total) for _, n in rows]
    wide, share_wide = max(map(len, who)), max(map(len, shares))
    block = "\n".join(
        f"{w.ljust(wide)}  {share.rjust(share_wide)}" for w, share in zip(who, shares, strict=True)
    )
    head = t(
        language,
        "prompts.recap",
        replies=t(language, "prompts.recap_replies", count=total),
        week=week_label,
    )
    return f"{head}\n```\n{block}\n```"
