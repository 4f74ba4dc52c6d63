"""Slack payloads -> core events, and the Responders that answer through Slack's channels."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.blocks import (
    fallback_text,
    form_again,
    form_values,
    home_view,
    message_blocks,
    modal,
    notice_view,
    parse_action_id,
)
from adapters.slack.workspace import PREFIX, SlackWorkspace, platform_error
from bot.commands import CommandTree, OptionType, split_command_text
from bot.domain import Language
from bot.errors import PlatformError, UserError
from bot.events import (
    ButtonPressed,
    ChannelRef,
    CommandInvoked,
    FormSubmitted,
    HomeOpened,
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


class ResponseUrl:
    """An interaction's response_url, used within Slack's limits and checked every time.

    Slack takes at most 5 posts within 30 minutes on one response_url
    (docs.slack.dev/interactivity/handling-user-interaction, "Message responses"), and
    slack_sdk's webhook client returns a refusal (4xx) without raising: `post` says whether
    Slack took the message, and logs why not.
    """

    USES = 5
    SECONDS = 30 * 60.0

    def __init__(
        self,
        url: str | None,
        session: aiohttp.ClientSession | None = None,
        issued: float | None = None,
    ) -> None:
        self.url = url or None
        self.session = session
        self.issued = time.monotonic() if issued is None else issued
        self.uses = 0

    @property
    def usable(self) -> bool:
        """True while a post may still reach Slack."""
        fresh = time.monotonic() - self.issued < self.SECONDS
        return self.url is not None and self.uses < self.USES and fresh

    async def post(self, **body: Any) -> bool:
        """Post once; False (logged) when spent, expired, refused or unreachable."""
        if not self.usable:
            return False
        self.uses += 1
        assert self.url is not None
        try:
            hook = AsyncWebhookClient(self.url, session=self.session)
            response = await hook.send_dict(body)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("response_url unreachable: %s: %s", type(exc).__name__, exc)
            return False
        status = getattr(response, "status_code", 200)
        if status != 200:
            log.warning(
                "Slack refused a response_url post: %s %s",
                status,
                str(getattr(response, "body", ""))[:200],
            )
            return False
        return True


class InteractionResponder(Responder):
    """Answers a slash command or a button press: ephemeral on its response_url, else privately.

    The response_url is used for answers only, never for progress: on a slash command's URL
    `replace_original` posts a new message (bolt-python issue 1268). Progress is one message in
    the member's DM with the bot, edited in place with chat.update. When the response_url is
    spent (5 posts), expired (30 minutes) or refused, answers go by `chat.postEphemeral` (a DM
    where the bot cannot post there).
    """

    def __init__(
        self,
        *,
        response_url: ResponseUrl,
        client: AsyncWebClient,
        workspace: SlackWorkspace,
        group_id: str,
        user_id: str,
        channel_id: str | None,
        trigger_id: str | None,
        lang: Language,
    ) -> None:
        self.url = response_url
        self.client = client
        self.workspace = workspace
        self.group_id = group_id
        self.user_id = user_id
        self.channel_id = channel_id
        self.trigger_id = trigger_id
        self.lang = lang
        self.progress: MessageRef | None = None

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        """Ephemeral via response_url (public answers in the channel), within its limits."""
        posted = await self.url.post(
            text=fallback_text(message),
            blocks=message_blocks(message),
            response_type="ephemeral" if private else "in_channel",
            replace_original=False,
        )
        if not posted:
            await self._privately(message, private)
        await _attach(
            self.workspace, self.group_id, self.user_id, message, self.channel_id, private
        )

    async def _privately(self, message: OutgoingMessage, private: bool) -> None:
        """Without a usable response_url: ephemeral in the channel, else a DM."""
        if self.channel_id and not private:
            await self.workspace.send(self.group_id, self.channel_id, message)
        elif self.channel_id:
            await self.workspace.send_private(self.group_id, self.channel_id, self.user_id, message)
        else:
            # A button in a view (App Home) has no channel and no response_url.
            await self.workspace.send_dm(self.group_id, self.user_id, message)

    async def edit_reply(self, message: OutgoingMessage) -> None:
        """Progress: one DM message, posted once and then edited (chat.update)."""
        if self.progress is not None:
            try:
                await self.workspace.edit(self.group_id, self.progress, message)
                return
            except PlatformError as exc:
                log.warning("could not edit the progress message: %s", exc)
        self.progress = await self.workspace.send_dm(self.group_id, self.user_id, message)

    async def open_form(self, form: FormSpec) -> None:
        """A modal, opened at once while the trigger_id is fresh."""
        await _open_form(self.client, self.trigger_id, form, self.lang)

    async def defer(self) -> None:
        """Already acknowledged when the handler started; nothing to do."""

    async def read_attachment(self, ref: str, option: str) -> str:
        """Slash commands carry no files on Slack."""
        raise UserError("slack.no_attachments", option=option)


class FormResponder(Responder):
    """Answers a view_submission after the ack: the open modal is updated with the outcome.

    The submission was acked at once with a "Saving…" view (no database or Web API call may
    come first: Slack allows 3 s from the request's arrival). When the core is done, `finish`
    shows the outcome in that modal with views.update: the answer, or the form once more with
    the member's answers and each error on its field. A modal the member has closed by then
    gets the outcome by DM instead.
    """

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
        view: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.workspace = workspace
        self.group_id = group_id
        self.user_id = user_id
        self.trigger_id = trigger_id
        self.lang = lang
        self.first_block = first_block
        self.fields = fields
        self.view = view or {}
        self.finished = False
        self.errors: dict[str, str] = {}
        self.notices: list[str] = []
        self.channels: list[tuple[str, str]] = []  # what the notices name, to link them

    def reject(self, text: str, field: str | None = None) -> bool:
        """Show a validation error on a field of the open modal; False once it is too late."""
        block = field if field in self.fields else self.first_block
        if self.finished or block is None:
            return False
        self.errors[block] = (self.errors.get(block, "") + " " + text).strip()[:1990]
        return True

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        """Until `finish`: the modal's answer; afterwards a DM."""
        if not self.finished:
            self.notices.append(message.text)
            self.channels.extend(message.channels)
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
        """Nothing: the submission was acknowledged before the core saw it."""

    async def read_attachment(self, ref: str, option: str) -> str:
        """Forms carry no files."""
        raise UserError("slack.no_attachments", option=option)

    async def finish(self) -> None:
        """Show the outcome in the modal (views.update); by DM when the modal is gone."""
        self.finished = True
        view_id = str(self.view.get("id") or "")
        if self.errors:
            values = form_values(self.view.get("state") or {})
            view = form_again(self.view, values, self.errors, t(self.lang, "slack.form_check"))
        else:
            text = "\n".join(self.notices) or t(self.lang, "slack.form_saved")
            title = str((self.view.get("title") or {}).get("text", "")) or "alumnibot"
            done = t(self.lang, "slack.form_done")
            view = notice_view(title, text, done, tuple(self.channels))
        try:
            if not view_id:
                raise RuntimeError("no view id to update")
            await self.client.views_update(view_id=view_id, view=view)
        except (SlackApiError, RuntimeError) as exc:
            log.info("modal gone (%s): the outcome goes by DM", exc)
            lines = [*self.errors.values(), *self.notices]
            if lines:
                await self.workspace.send_dm(
                    self.group_id,
                    self.user_id,
                    OutgoingMessage("\n".join(lines), channels=tuple(self.channels)),
                )


class HomeResponder(Responder):
    """Draws the core's answer to a HomeOpened on the member's App Home (views.publish)."""

    def __init__(self, client: AsyncWebClient, user_id: str) -> None:
        self.client = client
        self.user_id = user_id

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        """Publish the message as the member's home (only they see it)."""
        await self.client.views_publish(user_id=self.user_id, view=home_view(message))

    async def edit_reply(self, message: OutgoingMessage) -> None:
        """The home is replaced whole."""
        await self.reply(message)

    async def open_form(self, form: FormSpec) -> None:
        """Opening the home is not an interaction: there is no trigger_id for a modal."""
        raise UserError("core.form_unknown")

    async def defer(self) -> None:
        """An event needs no acknowledgement beyond Bolt's."""

    async def read_attachment(self, ref: str, option: str) -> str:
        """Nothing is attached to opening a tab."""
        raise UserError("slack.no_attachments", option=option)


def home_event(team_id: str, user: UserRef, client: AsyncWebClient) -> HomeOpened:
    """app_home_opened (Home tab) -> HomeOpened, answered on that member's home."""
    return HomeOpened(team_id, user, HomeResponder(client, user.id))


def user_ref(user_id: str, name: str = "", *, is_admin: bool = False) -> UserRef:
    """A Slack user as the core's UserRef."""
    return UserRef(id=user_id, name=name, is_admin=is_admin)


# Slack's formatting in text it sends: `<@U123|kari>`, `<#C123|jobs>`, `<!here>`,
# `<!subteam^S123|@staff>`, `<https://x|label>`, `<mailto:a@b|a@b>`; the rest has `&`, `<`
# and `>` escaped (docs.slack.dev/messaging/formatting-message-text).
_ENTITY = re.compile(r"<([^<>]*)>")
_HOLE = re.compile("\ue000(\\d+)\ue001")
_USER = re.compile(r"^@([UW][A-Z0-9]+)$")
_CHANNEL = re.compile(r"^#(C[A-Z0-9]+|G[A-Z0-9]+)$")


def unescape(text: str) -> str:
    """Slack's three escapes undone (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain_entity(inner: str) -> str:
    """One `<...>` of Slack's formatting as the plain text a member reads.

    Mentions become `@name` / `#name` (never live: the core only pings by id), a link its
    real address (a label that differs is kept before it, so a label never hides where the
    link goes), an email its address.
    """
    target, _, label = inner.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        return "@" + (label.lstrip("@") or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        special = target[1:].split("^", 1)[0]
        if special == "subteam":
            return label if label.startswith("@") else "@" + (label or "group")
        if special == "date":
            return label
        return "@" + special
    address = unescape(target)
    if address.startswith("mailto:"):
        return address.removeprefix("mailto:")
    if label and label != address:
        return f"{label} ({address})"
    return address


def slack_text(text: str) -> str:
    """Text as Slack sends it (formatting and escapes) -> the plain text the member typed."""
    return unescape(_ENTITY.sub(lambda m: plain_entity(m.group(1)), text))


def command_event(
    team_id: str,
    body: dict[str, Any],
    user: UserRef,
    responder: Responder,
    tree: CommandTree | None = None,
) -> CommandInvoked:
    """`/alumni <text>` -> CommandInvoked (UserError for unbalanced quotes).

    With `should_escape` Slack sends a picked member as `<@U123|kari>`: a member option that is
    exactly one mention becomes that id (`role grant member:@Kari` works whatever Kari's display
    name is); a channel option the channel's name without the adapter's prefix. Everything else
    becomes plain text. The entities are set aside before the words are split, so a label with
    spaces stays one word.
    """
    entities: list[str] = []

    def hole(match: re.Match[str]) -> str:
        entities.append(match.group(1))
        return f"\ue000{len(entities) - 1}\ue001"

    raw = _ENTITY.sub(hole, str(body.get("text") or ""))
    words, options = split_command_text(raw)

    def plain(value: str) -> str:
        return unescape(_HOLE.sub(lambda m: plain_entity(entities[int(m.group(1))]), value))

    def whole(value: str) -> tuple[str, str]:
        """(target, label) when the value is exactly one entity, else ("", "")."""
        found = _HOLE.fullmatch(value.strip())
        if not found:
            return "", ""
        target, _, label = entities[int(found.group(1))].partition("|")
        return target, unescape(label)

    member_options = _member_options(tree, tuple(plain(w) for w in words))
    converted: dict[str, str] = {}
    for name, value in options.items():
        target, label = whole(value)
        if name in member_options and _USER.match(target):
            converted[name] = target[1:]
        elif _CHANNEL.match(target):
            converted[name] = "#" + (label.removeprefix(PREFIX) or target[1:])
        else:
            converted[name] = plain(value)
    channel_id = body.get("channel_id")
    channel = ChannelRef(channel_id, str(body.get("channel_name", ""))) if channel_id else None
    return CommandInvoked(
        team_id, user, channel, tuple(plain(w) for w in words), converted, responder
    )


def _member_options(tree: CommandTree | None, words: tuple[str, ...]) -> set[str]:
    """Names of the options that take a member, for the command these words name."""
    if tree is None:
        return {"member"}
    try:
        command, _ = tree.resolve(words)
    except UserError:
        return set()
    return {o.name for o in command.options if o.type is OptionType.USER}


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
    if not isinstance(user, dict) or not user.get("id"):
        return None
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("name") or ""
    return MemberJoined(
        team_id,
        UserRef(id=str(user["id"]), name=str(name), is_bot=bool(user.get("is_bot"))),
        email=profile.get("email") or None,
        event_key=f"slack:team_join:{user['id']}",
    )


def left_event(team_id: str, event: dict[str, Any]) -> MemberLeft | None:
    """user_change with deleted=true is a member leaving the workspace (channel leaves are not)."""
    user = event.get("user") or {}
    if not isinstance(user, dict) or not user.get("deleted") or not user.get("id"):
        return None
    ref = UserRef(
        id=str(user["id"]), name=str(user.get("name", "")), is_bot=bool(user.get("is_bot"))
    )
    return MemberLeft(team_id, ref)


def returned_event(team_id: str, event: dict[str, Any], event_id: str) -> MemberJoined | None:
    """user_change with deleted=false: maybe a deactivated account reactivated (Slack sends no
    team_join then); the core treats it as a return only for a member it recorded as gone."""
    user = event.get("user") or {}
    if not isinstance(user, dict) or user.get("deleted") or not user.get("id"):
        return None
    joined = joined_event(team_id, {"user": user})
    if joined is None:
        return None
    return replace(joined, event_key=f"slack:user_change:{event_id}", returning=True)


def message_event(team_id: str, event: dict[str, Any]) -> MessagePosted | None:
    """A message -> MessagePosted (an app's marked `is_bot`: the core drops it); edits, joins
    and other subtypes are not posts."""
    if event.get("subtype") not in POST_SUBTYPES or not event.get("user"):
        return None
    channel = str(event.get("channel", ""))
    ts = str(event.get("ts", ""))
    thread_ts = event.get("thread_ts")
    thread_id = str(thread_ts) if thread_ts and thread_ts != ts else None
    return MessagePosted(
        team_id,
        UserRef(id=str(event["user"]), is_bot=bool(event.get("bot_id"))),
        ChannelRef(channel),
        MessageRef(channel, ts, thread_id),
        slack_text(str(event.get("text") or "")),
        thread_id,
    )
