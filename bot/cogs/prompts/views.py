"""What people see of the weekly questions, in the group's language (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.activity import ROLES
from bot.channels import default_name
from bot.cogs.prompts.bank import BankQuestion
from bot.cogs.prompts.records import (
    AskedThisWeek,
    Decision,
    Overview,
    Prompt,
    PromptStatus,
    Recap,
    Slot,
)
from bot.domain import Language
from bot.errors import UserError
from bot.i18n import join, locale, moment, number, percent, t
from bot.messages import Button, ButtonStyle, OutgoingMessage, Poll
from bot.safety import clip

ACCEPT_ACTION = "prompts.accept"
REJECT_ACTION = "prompts.reject"
NOW_ACTION = "prompts.now"
# A poll stays open for the week the question is asked.
POLL_HOURS = 24 * 7


def question(
    lang: Language,
    prompt: Prompt,
    options: Sequence[str],
    *,
    polls: bool,
    role_id: str | None,
    suggester: str | None,
) -> tuple[OutgoingMessage, OutgoingMessage]:
    """The question as posted (pinging the discussion role and crediting its suggester), and
    as it reads without the suggester (what erasing them edits it to)."""
    text = prompt.text_in(lang.value)
    lines = [text]
    poll = None
    if options and polls:
        poll = Poll(clip(text, 300), tuple(options), hours=POLL_HOURS)
    elif options:
        lines += [f"- {o}" for o in options]
    answer_hint = t(lang, "prompts.answer_in_thread")
    title = t(lang, "prompts.post_title")
    uncredited = OutgoingMessage("\n".join([*lines, answer_hint]), title=title)
    if prompt.suggested_by:
        lines.append(t(lang, "prompts.credit", name=suggester or prompt.suggested_by))
    lines.append(answer_hint)
    posted = OutgoingMessage(
        "\n".join(lines),
        title=title,
        ping_roles=(role_id,) if role_id else (),
        ping_users=(prompt.suggested_by,) if prompt.suggested_by else (),
        poll=poll,
    )
    return posted, uncredited


def thread_name(lang: Language, prompt: Prompt) -> str:
    """The name of the question's thread."""
    return clip(prompt.text_in(lang.value), 90)


def low_queue(lang: Language, remaining: int) -> OutgoingMessage:
    """Staff's alert that the queue runs low."""
    return OutgoingMessage(t(lang, "prompts.low_queue", count=remaining))


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


def recap(lang: Language, done: Recap, week_label: str) -> OutgoingMessage:
    """The recap posted in the question's thread."""
    return OutgoingMessage(recap_text(lang.value, done.counts, week_label))


def staff_numbers(lang: Language, done: Recap, week_label: str) -> OutgoingMessage:
    """The week's numbers for staff in the review channel: replies per role and their share."""
    total = done.total
    fields = tuple(
        (
            t(lang, f"prompts.role_{role}"),
            t(lang, "prompts.role_value", count=n, share=percent(lang, n / total))
            if total
            else number(lang, n),
        )
        for role, n in ((role, done.counts.get(role, 0)) for role in ROLES)
    )
    question = clip(done.prompt.text_in(lang.value), 120) if done.prompt else "?"
    return OutgoingMessage(
        t(lang, "prompts.staff_numbers", question=question, count=total),
        title=t(lang, "prompts.staff_numbers_title", week=week_label),
        fields=fields,
    )


def status_name(lang: Language, status: PromptStatus) -> str:
    """Where a question is, in words ("in the queue")."""
    return t(lang, f"prompts.status_{status.value}")


def duplicate(lang: Language, prompt: Prompt) -> UserError:
    """The refusal of a question the group already has, naming it and where it is."""
    return UserError(
        "prompts.duplicate",
        text=clip(prompt.text_in(lang.value), 200),
        status=status_name(lang, prompt.status),
    )


def duplicate_of_bank(lang: Language, question: BankQuestion) -> UserError:
    """The refusal of a question the bot's bank already holds."""
    return UserError(
        "prompts.duplicate",
        text=clip(question.nb if lang is Language.NB else question.en, 200),
        status=t(lang, "prompts.status_bank"),
    )


def theme_invalid(lang: Language, value: str, themes: Sequence[str]) -> UserError:
    """The refusal of a theme that is not one of the bank's (or "open")."""
    words = [t(lang, f"prompts.theme_word.{theme}") for theme in themes]
    return UserError("prompts.theme_invalid", value=value, themes=join(lang, words))


def already_decided(lang: Language, prompt: Prompt) -> UserError:
    """The refusal of a second decision on a suggestion."""
    return UserError("prompts.already_decided", status=status_name(lang, prompt.status))


def review(lang: Language, prompt: Prompt, name: str) -> OutgoingMessage:
    """A suggestion in the review channel, with Accept and Reject (`name`: who suggested it)."""
    value = str(prompt.id)
    buttons = (
        Button(t(lang, "prompts.accept"), ACCEPT_ACTION, value, ButtonStyle.SUCCESS),
        Button(t(lang, "prompts.reject"), REJECT_ACTION, value, ButtonStyle.DANGER),
    )
    title = t(lang, "prompts.review_title", name=name)
    return OutgoingMessage(prompt.text, title=title, buttons=buttons)


def decided(lang: Language, prompt: Prompt, status: PromptStatus, name: str) -> OutgoingMessage:
    """The review post once decided: the question and who decided (`name`)."""
    return OutgoingMessage(f"{prompt.text}\n{decided_text(lang, status, name)}")


def decided_text(lang: Language, status: PromptStatus, name: str) -> str:
    """ "Accepted by Ingrid: the question joins the queue." / "Rejected by Ingrid."."""
    return t(lang, f"prompts.decided_{status.value}", name=name)


def answer(lang: Language, decision: Decision) -> OutgoingMessage:
    """What the staff member who decided is told."""
    return OutgoingMessage(decided_text(lang, decision.status, decision.by))


def your_decision(lang: Language, prompt: Prompt, status: PromptStatus) -> OutgoingMessage:
    """The DM telling the suggester what staff decided."""
    return OutgoingMessage(t(lang, f"prompts.your_{status.value}", text=clip(prompt.text, 200)))


def another_member(lang: Language) -> str:
    """How a message names a member who erased their data."""
    return t(lang, "privacy.another_member")


def day_name(lang: Language, day: int) -> str:
    """A weekday as the language writes it in a sentence ("Wednesday" / "onsdag")."""
    return str(locale(lang).days["format"]["wide"][day])


def schedule_line(lang: Language, slot: Slot) -> str:
    """When the question goes out, and the next time (or that it is paused)."""
    s = slot.settings
    key = "prompts.schedule_paused" if s.paused else "prompts.schedule_now"
    return t(
        lang,
        key,
        day=day_name(lang, s.day),
        time=f"{s.time:%H:%M}",
        timezone=s.timezone,
        next=moment(lang, slot.next, s.timezone),
        channel=slot.channel or default_name(lang, "discussion"),
    )


def schedule(lang: Language, slot: Slot) -> OutgoingMessage:
    """The answer to `/alumni prompt schedule` and `resume`."""
    return OutgoingMessage(schedule_line(lang, slot))


def overview(lang: Language, ov: Overview) -> OutgoingMessage:
    """`/alumni prompt list`: the schedule, the next five questions, suggestions, the count."""
    lines = [schedule_line(lang, ov.slot), t(lang, "prompts.queue_title", count=len(ov.queue))]
    for p in ov.queue[:5]:
        theme = t(lang, f"prompts.theme_word.{p.theme}")
        lines.append(f"- [{theme}] {clip(p.text_in(lang.value), 140)} (#{p.id})")
    lines.append(t(lang, "prompts.pending_title", count=len(ov.pending)))
    for p in ov.pending:
        lines.append(f"- {clip(p.text, 140)} (#{p.id})")
    lines.append(t(lang, "prompts.posted_count", count=ov.posted))
    return OutgoingMessage("\n".join(lines))


def home_notes(lang: Language, slot: Slot) -> list[str]:
    """The line of a member's home view: when the next question comes."""
    s = slot.settings
    if s.paused:
        return [t(lang, "prompts.home_paused")]
    when = moment(lang, slot.next, s.timezone)
    channel = slot.channel or default_name(lang, "discussion")
    return [t(lang, "prompts.home_next", next=when, timezone=s.timezone, channel=channel)]


def ask_another(lang: Language, asked: AskedThisWeek) -> OutgoingMessage:
    """`prompt now` in a week that had its question: what went out, and a button to post one
    more (nothing is posted without it)."""
    last = clip(asked.last.text_in(lang.value), 200) if asked.last else "?"
    return OutgoingMessage(
        t(lang, "prompts.ask_another", count=asked.count, last=last),
        buttons=(Button(t(lang, "prompts.ask_another_button"), NOW_ACTION, str(asked.count)),),
    )
