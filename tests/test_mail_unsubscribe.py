"""The unsubscribe link in every email: a page with a button, and RFC 8058's one-click POST."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes

from yarl import URL

from bot.cogs.mail.messages import build, unsubscribe_url
from bot.cogs.mail.records import AddressState, Email
from bot.cogs.mail.service import MailService
from bot.domain import Language
from tests.web.helpers import Dash, dashboard

KARI = "kari@example.com"


async def _link(d: Dash, address: str = KARI) -> str:
    """The path of the link an email to `address` carries (as the sender builds it)."""
    token = await d.world.bot.service(MailService).unsubscribe_token(d.world.group.id, address)
    url = unsubscribe_url("https://alumni.example.org", token)
    return url.removeprefix("https://alumni.example.org")


async def _state(d: Dash, address: str = KARI) -> AddressState:
    found = await d.world.bot.service(MailService).status(d.world.group.id, [address])
    return next(iter(found.values())).state


async def test_a_get_only_asks_and_the_one_click_post_opts_the_address_out() -> None:
    async with dashboard() as d:
        path = await _link(d)
        page = await d.client.get(path)
        text = await page.text()
        # Mail scanners open links: a GET shows a button and records nothing (RFC 8058 3.2).
        assert page.status == 200 and "Unsubscribe</button>" in text, text
        assert page.headers["Cache-Control"] == "no-store"
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        assert await _state(d) is not AddressState.OPTED_OUT
        # What a mail provider sends for the List-Unsubscribe-Post header: no cookie, no page.
        done = await d.client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert done.status == 200, await done.text()
        assert "gets no more email" in await done.text()
        assert await _state(d) is AddressState.OPTED_OUT
        # Twice is harmless.
        again = await d.client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert again.status == 200


async def test_a_forged_or_cut_token_is_refused_and_records_nothing() -> None:
    async with dashboard() as d:
        path = await _link(d)
        # Another address's hash under a token we did not sign; a link cut short by a client.
        forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        for bad in (forged, path[: len(path) // 2], "/mail/unsubscribe?t=", "/mail/unsubscribe"):
            answer = await d.client.post(bad, data={"List-Unsubscribe": "One-Click"})
            assert answer.status == 400, bad
            assert "not valid" in await answer.text()
        assert await _state(d) is not AddressState.OPTED_OUT


async def test_the_page_speaks_the_groups_language() -> None:
    async with dashboard() as d:
        group = replace(d.world.group, language=Language.NB)
        async with d.world.uow() as uow:
            await uow.groups.update(group)
        path = await _link(d)
        page = await d.client.get(path)
        text = await page.text()
        assert 'lang="nb"' in text and "Meld av</button>" in text, text
        done = await d.client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert "får ikke mer e-post" in await done.text()


async def test_the_link_an_email_carries_is_the_one_this_server_answers() -> None:
    async with dashboard() as d:
        mail = d.world.bot.service(MailService)
        token = await mail.unsubscribe_token(d.world.group.id, KARI)
        base = str(d.client.make_url("")).rstrip("/")
        email = Email(to=KARI, subject="This week", text="News.", why="You asked for it.")
        built = build(
            email,
            lang=Language.EN,
            sender="Alumni <alumni@example.org>",
            now=d.world.bot.clock.now(),
            unsubscribe_link=unsubscribe_url(base, token),
        )
        # The email as a mail provider reads it: its one-click header names this server.
        received = message_from_bytes(bytes(built))
        assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = str(received["List-Unsubscribe"]).split(">")[0].lstrip("<")
        assert link.startswith(base + "/mail/unsubscribe?t=")
        answer = await d.client.post(URL(link).path_qs, data={"List-Unsubscribe": "One-Click"})
        assert answer.status == 200
        assert await _state(d) is AddressState.OPTED_OUT
