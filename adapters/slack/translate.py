"""Slack payloads -> core events, and the Responders that answer through Slack's channels."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import (
    fallback_text,
    form_values,
    message_blocks,
    modal,
    notice_view,
    parse_action_id,
)
from adapters.slack.workspace import SlackWorkspace, platform_error
from bot.commands import split_command_text
from bot.domain import Language
from bot.errors import UserError
from bot.events import (
    ButtonPressed,
    ChannelRef,
    CommandInvoked,
    FormSubmitted,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    MessageRef,
    UserRef,
)
from bot.i18n import t
from bot.messages import FormSpec, OutgoingMessage
from bot.ports import Responder

log = logging.getLogger(__name__)

# Message subtypes that are a member writing something; everything else (bot_message,
# message_changed, message_deleted, channel_join, ...) is not a post.
POST_SUBTYPES = {None, "thread_broadcast", "file_share"}


async def _open_form(
    client: AsyncWebClient, trigger_id: str | None, form: FormSpec, lang: Language
) -> None:
    """views.open with the interaction's trigger_id (valid for 3 s, so called right away)."""
    if not trigger_id:
        raise RuntimeError("no trigger_id to open a form with")
    view = modal(form, t(lang, "slack.form_submit"), t(lang, "slack.form_close"))
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        raise platform_error(exc) from exc


async def _attach(
    workspace: SlackWorkspace,
    group_id: str,
    user_id: str,
    message: OutgoingMessage,
    channel_id: str | None,
    private: bool,
) -> None:
    """Files of an answer: Slack has no ephemeral files, so a private answer's go by DM."""
    if not (message.image_path or message.file_path):
        return
    target = channel_id if channel_id and not private else None
    if target is None:
        target = await workspace.dm_channel(group_id, user_id)
    await workspace.attach(group_id, target, message, None)


class InteractionResponder(Responder):
    """Answers a slash command or a button press through its response_url (ephemeral)."""

    def __init__(
        self,
        *,
        respond: Any,
        client: AsyncWebClient,
        workspace: SlackWorkspace,
        group_id: str,
        user_id: str,
        channel_id: str | None,
        trigger_id: str | None,
        lang: Language,
    ) -> None:
        self.respond = respond
        self.client = client
        self.workspace = workspace
        self.group_id = group_id
        self.user_id = user_id
        self.channel_id = channel_id
        self.trigger_id = trigger_id
        self.lang = lang

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        """Ephemeral via response_url; public answers go in the channel."""
        if self.respond is None or getattr(self.respond, "response_url", None) is None:
            # A button in a view (App Home) has no response_url: the answer goes by DM.
            await self.workspace.send_dm(self.group_id, self.user_id, message)
            return
        await self.respond(
            text=fallback_text(message),
            blocks=message_blocks(message),
            response_type="ephemeral" if private else "in_channel",
            replace_original=False,
        )
        await _attach(
            self.workspace, self.group_id, self.user_id, message, self.channel_id, private
        )

    async def edit_reply(self, message: OutgoingMessage) -> None:
        """replace_original on the response_url: progress messages update in place."""
        if self.respond is None or getattr(self.respond, "response_url", None) is None:
            await self.reply(message)
            return
        await self.respond(
            text=fallback_text(message), blocks=message_blocks(message), replace_original=True
        )

    async def open_form(self, form: FormSpec) -> None:
        """A modal, opened at once while the trigger_id is fresh."""
        await _open_form(self.client, self.trigger_id, form, self.lang)

    async def defer(self) -> None:
        """Already acknowledged when the handler started; nothing to do."""

    async def read_attachment(self, ref: str, option: str) -> str:
        """Slash commands carry no files on Slack."""
        raise UserError("slack.no_attachments", option=option)


class FormResponder(Responder):
    """Answers a view_submission: before the ack the modal itself shows it, afterwards a DM."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        workspace: SlackWorkspace,
        group_id: str,
        user_id: str,
        trigger_id: str | None,
        lang: Language,
        first_block: str | None,
        fields: set[str],
    ) -> None:
        self.client = client
        self.workspace = workspace
        self.group_id = group_id
        self.user_id = user_id
        self.trigger_id = trigger_id
        self.lang = lang
        self.first_block = first_block
        self.fields = fields
        self.acked = False
        self.errors: dict[str, str] = {}
        self.notices: list[str] = []

    def reject(self, text: str, field: str | None = None) -> bool:
        """Show a validation error on a field of the open modal; False once it is too late."""
        block = field if field in self.fields else self.first_block
        if self.acked or block is None:
            return False
        self.errors[block] = (self.errors.get(block, "") + " " + text).strip()[:2000]
        return True

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        """Before the ack: the modal turns into this text; after it: a DM."""
        if not self.acked:
            self.notices.append(message.text)
            await _attach(self.workspace, self.group_id, self.user_id, message, None, True)
            return
        await self.workspace.send_dm(self.group_id, self.user_id, message)

    async def edit_reply(self, message: OutgoingMessage) -> None:
        """Same as reply: a modal has one answer."""
        await self.reply(message)

    async def open_form(self, form: FormSpec) -> None:
        """A follow-up modal (views.open with the submission's trigger_id)."""
        await _open_form(self.client, self.trigger_id, form, self.lang)

    async def defer(self) -> None:
        """Nothing: the ack follows when the handler returns or time is short."""

    async def read_attachment(self, ref: str, option: str) -> str:
        """Forms carry no files."""
        raise UserError("slack.no_attachments", option=option)

    def ack_args(self, title: str) -> dict[str, Any]:
        """What to ack the view_submission with."""
        if self.errors:
            return {"response_action": "errors", "errors": dict(self.errors)}
        if self.notices:
            view = notice_view(title, "\n".join(self.notices), t(self.lang, "slack.form_done"))
            return {"response_action": "update", "view": view}
        return {}


def user_ref(user_id: str, name: str = "", *, is_admin: bool = False) -> UserRef:
    """A Slack user as the core's UserRef."""
    return UserRef(id=user_id, name=name, is_admin=is_admin)


def command_event(
    team_id: str, body: dict[str, Any], user: UserRef, responder: Responder
) -> CommandInvoked:
    """`/alumni <text>` -> CommandInvoked (UserError for unbalanced quotes)."""
    words, options = split_command_text(str(body.get("text") or ""))
    channel_id = body.get("channel_id")
    channel = ChannelRef(channel_id, str(body.get("channel_name", ""))) if channel_id else None
    return CommandInvoked(team_id, user, channel, words, options, responder)


def button_event(
    team_id: str, body: dict[str, Any], user: UserRef, responder: Responder
) -> ButtonPressed | None:
    """block_actions on an `alumni:<action>` button -> ButtonPressed (None for others)."""
    actions = body.get("actions") or []
    if not actions:
        return None
    action = parse_action_id(str(actions[0].get("action_id", "")))
    if action is None:
        return None
    channel_id = (body.get("channel") or {}).get("id")
    container = body.get("container") or {}
    message_ts = (body.get("message") or {}).get("ts") or container.get("message_ts")
    thread_ts = (body.get("message") or {}).get("thread_ts")
    return ButtonPressed(
        team_id,
        user,
        action,
        str(actions[0].get("value") or ""),
        ChannelRef(channel_id) if channel_id else None,
        MessageRef(channel_id, message_ts, thread_ts) if channel_id and message_ts else None,
        responder,
    )


def form_event(
    team_id: str, body: dict[str, Any], user: UserRef, responder: Responder
) -> FormSubmitted:
    """view_submission -> FormSubmitted: form id in callback_id, context in private_metadata."""
    view = body.get("view") or {}
    return FormSubmitted(
        team_id,
        user,
        str(view.get("callback_id", "")),
        form_values(view.get("state") or {}),
        str(view.get("private_metadata") or ""),
        responder,
    )


def first_input_block(view: dict[str, Any]) -> str | None:
    """The block id a form-level error is shown on."""
    for block in view.get("blocks") or []:
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    values = (view.get("state") or {}).get("values") or {}
    return next(iter(values), None)


def joined_event(team_id: str, event: dict[str, Any]) -> MemberJoined | None:
    """team_join -> MemberJoined with the email; event_key is the user id (Slack repeats it)."""
    user = event.get("user") or {}
    if not isinstance(user, dict) or not user.get("id") or user.get("is_bot"):
        return None
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("name") or ""
    return MemberJoined(
        team_id,
        UserRef(id=str(user["id"]), name=str(name)),
        email=profile.get("email") or None,
        event_key=f"slack:team_join:{user['id']}",
    )


def left_event(team_id: str, event: dict[str, Any]) -> MemberLeft | None:
    """user_change with deleted=true is a member leaving the workspace (channel leaves are not)."""
    user = event.get("user") or {}
    if not isinstance(user, dict) or not user.get("deleted") or not user.get("id"):
        return None
    return MemberLeft(team_id, UserRef(id=str(user["id"]), name=str(user.get("name", ""))))


def returned_event(team_id: str, event: dict[str, Any], event_id: str) -> MemberJoined | None:
    """user_change with deleted=false: maybe a deactivated account reactivated (Slack sends no
    team_join then); the core treats it as a return only for a member it recorded as gone."""
    user = event.get("user") or {}
    if not isinstance(user, dict) or user.get("deleted") or not user.get("id"):
        return None
    if user.get("is_bot"):
        return None
    joined = joined_event(team_id, {"user": user})
    if joined is None:
        return None
    return replace(joined, event_key=f"slack:user_change:{event_id}", returning=True)


def message_event(team_id: str, event: dict[str, Any]) -> MessagePosted | None:
    """A member's message -> MessagePosted; bots, edits, joins and other subtypes are ignored."""
    if event.get("subtype") not in POST_SUBTYPES or event.get("bot_id") or not event.get("user"):
        return None
    channel = str(event.get("channel", ""))
    ts = str(event.get("ts", ""))
    thread_ts = event.get("thread_ts")
    thread_id = str(thread_ts) if thread_ts and thread_ts != ts else None
    return MessagePosted(
        team_id,
        UserRef(id=str(event["user"])),
        ChannelRef(channel),
        MessageRef(channel, ts, thread_id),
        str(event.get("text") or ""),
        thread_id,
    )
