"""No live `<!channel>` from member input or names: issue 12, item 11, held on Slack.

Slack parses `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^S…>` and `<@U…>` in a
message's `text` (the notification and fallback) and in mrkdwn text objects alike
(docs.slack.dev/messaging/formatting-message-text: "Escaping text" asks apps to escape `&`, `<`
and `>`). A member whose display name is `<!channel> Mallory` suggests a question, posts a job
and opens App Home; the test reads everything the fake Slack received and finds no live
mention but the two the bot itself chose (the discussion group and the suggester, by id).
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cog import Cog, command
from bot.commands import Option
from bot.core import Context
from bot.domain import Permission
from bot.messages import Button, OutgoingMessage
from tests.conftest import START
from tests.slack_harness import ManualClock, SlackHarness, slack_harness

ZWSP = "\u200b"  # what bot.safety.neutralise puts after `<` in member text
LIVE = re.compile(r"<(!channel|!here|!everyone|!subteam\^[A-Z0-9]+|@[UWB][A-Z0-9]+)(\|[^>]*)?>")
HOSTILE = "<!channel> Mallory"


def mrkdwn_texts(value: Any) -> list[str]:
    """Every string Slack parses for mentions in blocks or a view: mrkdwn text objects."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            found.append(value["text"])
        for item in value.values():
            found += mrkdwn_texts(item)
    elif isinstance(value, list):
        for item in value:
            found += mrkdwn_texts(item)
    return found


def everything_sent(h: SlackHarness) -> list[tuple[str, str]]:
    """(where, text) for every parsed text the bot sent: Web API calls and response_urls."""
    sent: list[tuple[str, str]] = []
    for call in h.fake.api_calls:
        params = call.params
        if call.method.startswith("chat.") and isinstance(params.get("text"), str):
            sent.append((call.method + " text", params["text"]))
        for key in ("blocks", "view"):
            sent += [(f"{call.method} {key}", t) for t in mrkdwn_texts(params.get(key))]
    for record in h.fake.response_urls.values():
        for body in record.posts:
            sent.append(("response_url text", str(body.get("text", ""))))
            sent += [("response_url blocks", t) for t in mrkdwn_texts(body.get("blocks"))]
    return sent


def press(h: SlackHarness, user: str, message: dict[str, Any], label: str) -> Any:
    """Press a button of a message in the review channel."""
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return h.driver.block_action(
                    user,
                    element["action_id"],
                    element.get("value"),
                    channel_id=h.fake.channel_by_name("alumni-staff-review").id,
                    message_ts=message["ts"],
                )
    raise AssertionError(f"no {label} button")


async def test_member_text_and_names_never_become_live_mentions(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    async with slack_harness(engine, clock=clock) as h:
        await h.command(h.admin, "setup")
        mallory = h.fake.add_user("mallory", email="m@example.com", display_name=HOSTILE)
        await h.driver.team_join(mallory)
        await h.fake.wait_for(lambda: h.received["team_join"] == 1)
        await h.settle()
        await h.command(mallory, "prompt join")

        # A suggestion: its text and the suggester's name reach the staff review channel.
        forged = f"<@{h.admin}>"
        await h.command(mallory, f'prompt suggest text:"<!here> & {forged}: your best fabric?"')
        review = h.fake.channel_by_name("alumni-staff-review")
        (request,) = [m for m in review.messages if "best fabric" in json.dumps(m)]
        await press(h, h.admin, request, "Accept")
        await h.settle()
        await h.command(h.admin, "prompt now")

        # A job post whose every field tries a broadcast.
        d = await h.driver.slash_command(mallory, h.fake.general_id, "/alumni", "post job")
        await h.settle()
        assert d.status == 200
        fields = {
            "title": "<!channel> Pattern cutter",
            "employer": "<!everyone> & Co",
            "place": forged,
            "deadline": "2026-09-30",
            "link": "https://example.org/job",
        }
        values = {k: {"value": {"type": "plain_text_input", "value": v}} for k, v in fields.items()}
        await h.driver.view_submission(mallory, "post", values)
        await h.settle()
        await h.driver.app_home_opened(mallory)
        await h.fake.wait_for(lambda: mallory in h.fake.home_views)
        await h.settle()

        sent = everything_sent(h)
        assert any("Pattern cutter" in text for _, text in sent)  # the card was posted
        shown = [text.replace(ZWSP, "") for _, text in sent]
        assert any("&lt;!channel&gt; Mallory" in text for text in shown)  # the name, escaped
        live = [(where, m.group(0)) for where, text in sent for m in LIVE.finditer(text)]
        discussion = h.fake.channel_by_name("alumni-discussion")
        (question,) = [m for m in discussion.messages if m.get("user") == h.fake.bot_user_id]
        group = next(g["id"] for g in h.fake.usergroups.values() if "discussion" in g["handle"])
        # Only the bot's own mentions, built from ids: the discussion group and the suggester.
        assert {token for _, token in live} == {f"<!subteam^{group}>", f"<@{mallory}>"}, live
        assert f"<!subteam^{group}>" in question["text"] and f"<@{mallory}>" in question["text"]
        assert "&lt;!here&gt; &amp; &lt;@" in question["text"].replace(ZWSP, "")


class Careless(Cog):
    """A feature that forgets to neutralise: the adapter must still escape what it sends."""

    name = "careless"

    @command(
        "careless say",
        permission=Permission.MEMBER,
        help_key="setup.help_help",
        options=(Option("text", rest=True, max_length=500),),
    )
    async def say(self, ctx: Context, text: str = "") -> None:
        """Post the member's text raw: as title, text, field and button label, and answer it."""
        assert ctx.channel is not None
        who = ctx.user.name
        message = OutgoingMessage(
            text,
            title=f"{who}: {text}",
            fields=((who, text),),
            buttons=(Button(text[:20], "careless", text[:50]),),
        )
        await self.bot.workspace.send(ctx.group.id, ctx.channel.id, message)
        await self.bot.workspace.send_dm(ctx.group.id, ctx.user.id, message)
        await self.bot.workspace.send_private(ctx.group.id, ctx.channel.id, ctx.user.id, message)
        await ctx.reply(message)


async def test_the_adapter_escapes_even_what_a_feature_forgot_to(engine: AsyncEngine) -> None:
    """Blocks and fallback text alike, in channel posts, DMs, ephemerals and answers."""
    async with slack_harness(engine, extra_cogs=[Careless]) as h:
        mallory = h.fake.add_user("mallory", display_name=HOSTILE)
        hostile = f"<!here> <!everyone> <@{h.admin}> <!subteam^S0123> & more"
        await h.command(mallory, f'careless say text:"{hostile}"')
        sent = everything_sent(h)
        assert len([w for w, _ in sent if w.endswith("text")]) >= 4
        assert [(w, m.group(0)) for w, t in sent for m in LIVE.finditer(t)] == []
        assert any("&lt;!channel&gt; Mallory: &lt;!here&gt;" in t for w, t in sent)
