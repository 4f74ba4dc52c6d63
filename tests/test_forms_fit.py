"""Every form of every cog fits every platform's limits (Capabilities), in both languages.

The walk opens each form the way a member does (its command or button) through the core and
records the FormSpec; every form id a cog handles must be among them, so a new form that
nobody walked fails here too. Discord's modal holds at most 5 inputs with 45-character labels
(developers/interactions/receiving-and-responding.mdx, Modal): a form over a limit would lose a
field there, as the profile's "open to mentoring" once did.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.workspace import DiscordWorkspace
from adapters.local.workspace import GROUP_ID, LocalWorkspace
from adapters.slack.workspace import SlackWorkspace
from bot.domain import Language
from bot.errors import UserError
from bot.events import ButtonPressed, CommandInvoked, FormSubmitted, UserRef
from bot.messages import FormSpec, OutgoingMessage
from tests.conftest import make_group

PLATFORMS = {
    "discord": DiscordWorkspace.capabilities,
    "slack": SlackWorkspace.capabilities,
    "local": LocalWorkspace.capabilities,
}


class Recording:
    """A Responder that keeps the forms it was asked to open and the answers."""

    def __init__(self) -> None:
        self.forms: list[FormSpec] = []
        self.answers: list[OutgoingMessage] = []

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        """Keep the answer."""
        self.answers.append(message)

    async def edit_reply(self, message: OutgoingMessage) -> None:
        """Keep the answer."""
        self.answers.append(message)

    async def open_form(self, form: FormSpec) -> None:
        """Keep the form."""
        self.forms.append(form)

    async def defer(self) -> None:
        """Nothing to acknowledge."""

    async def read_attachment(self, ref: str, option: str) -> str:
        """No files here."""
        raise UserError("core.attachment_unreadable", option=option)


async def walk_forms(engine: AsyncEngine, language: Language) -> tuple[list[FormSpec], set[str]]:
    """Open every form members can open; returns them and the form ids the cogs handle."""
    group = make_group(engine, language)
    await group.run("/alumni setup", "!join kari kari@example.com")
    bot, rec = group.bot, Recording()
    kari = UserRef("kari", "kari")
    post_words = [c.path for c in bot.tree.all() if c.path[0] == "post"]
    for words in [*post_words, ("profile", "edit")]:
        await bot.handle(CommandInvoked(GROUP_ID, kari, None, words, {}, rec))
    for action, value in [
        ("onb:code", ""),
        ("onb:intro", ""),
        ("onb:claim", "student"),
        ("onb:claim", "alumni"),
        ("onb:claim", "staff"),
    ]:
        await bot.handle(ButtonPressed(GROUP_ID, kari, action, value, None, None, rec))
    # Every kind's edit form, filled in: post one of each, then press its Edit button.
    for kind in [w[1] for w in post_words]:
        before = len(rec.answers)
        values = {f.name: _valid(f.name, kind) for f in _form(rec, "post", kind).fields}
        await bot.handle(FormSubmitted(GROUP_ID, kari, "post", values, kind, rec))
        async with group.uow() as uow:
            posts = await uow.posts.open_posts(GROUP_ID, kind)
        assert posts, (kind, [a.text for a in rec.answers[before:]])
        await bot.handle(
            ButtonPressed(GROUP_ID, kari, "post_edit", str(posts[-1].id), None, None, rec)
        )
    handled = set(bot._forms)
    return rec.forms, handled


def _form(rec: Recording, form_id: str, context: str) -> FormSpec:
    return next(f for f in rec.forms if f.form_id == form_id and f.context == context)


def _valid(field: str, kind: str) -> str:
    """A value each post form accepts."""
    values: dict[str, Any] = {
        "deadline": "2026-12-01",
        "from": "2026-09-01",
        "to": "2026-10-01",
        "when": "2026-09-15 18:00" if kind == "event" else "in October",
        "link": "https://example.com/a",
        "price": "1500 kr",
    }
    return str(values.get(field, f"A {field}"))


async def test_every_form_fits_every_platform_in_both_languages(engine: AsyncEngine) -> None:
    for language in (Language.EN, Language.NB):
        forms, handled = await walk_forms(engine, language)
        opened = {f.form_id for f in forms}
        assert handled <= opened, f"forms nobody opened in this walk: {handled - opened}"
        for name, capabilities in PLATFORMS.items():
            problems = [p for f in forms for p in capabilities.form_problems(f)]
            assert problems == [], (language, name, problems)
        edit_forms = [f for f in forms if f.form_id == "post_edit"]
        assert edit_forms and all(any(x.default for x in f.fields) for f in edit_forms)


def test_a_sixth_field_or_a_long_label_is_named_for_discord() -> None:
    from bot.messages import FormField

    form = FormSpec(
        "profile",
        "Your profile",
        tuple(
            FormField(f"f{i}", "A label long enough to not fit a modal's label") for i in range(6)
        ),
    )
    problems = DiscordWorkspace.capabilities.form_problems(form)
    assert any("number of fields is 6, the platform allows 5" in p for p in problems)
    assert any("the label of f0" in p for p in problems)
    assert LocalWorkspace.capabilities.form_problems(form) == []
