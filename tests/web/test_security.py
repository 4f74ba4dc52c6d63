"""The dashboard's security rules over a real socket: links, sessions, forms, headers.

Each test is an attack or a refusal, asserted as the staff member (or the attacker) sees it
and as the database holds it afterwards.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from aiohttp import ClientSession, CookieJar
from sqlalchemy import text
from yarl import URL

from adapters.web.app import COOKIE, SIGNIN_COOKIE
from bot.cogs.dashboard.service import MAX_FAILURES
from bot.cogs.prompts.records import Prompt, PromptStatus
from bot.domain import Language
from bot.errors import PermissionDenied
from tests.features.helpers import INGRID, STAFF
from tests.web.helpers import dashboard, make_staff, revoke_staff

pytestmark = pytest.mark.asyncio


async def _queue(d) -> list[Prompt]:  # type: ignore[no-untyped-def]
    async with d.world.uow() as uow:
        return await uow.prompts.for_group(d.world.group.id, PromptStatus.ACCEPTED)


async def test_a_link_signs_in_once_and_the_session_opens_the_pages() -> None:
    async with dashboard() as d:
        path = await d.link()
        first = await d.use(path)
        assert first.status == 303 and first.headers["Location"] == "/dashboard/"
        cookie = first.cookies[COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
        assert cookie["path"] == "/dashboard"
        assert cookie["max-age"] == str(12 * 3600)
        page = await d.client.get("/dashboard/")
        assert page.status == 200 and "This week&#39;s question" in await page.text()
        # A second use of the same link (another browser, or an attacker who saw it later).
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as other:
            again = await other.get(d.client.make_url(path))
            check = (await again.text()).split('name="check" value="')[1].split('"')[0]
            second = await other.post(
                d.client.make_url(path), data={"check": check}, allow_redirects=False
            )
            assert second.status == 403
            assert "has been used already" in await second.text()
            assert COOKIE not in second.cookies


async def test_links_and_sessions_are_stored_only_as_hashes() -> None:
    async with dashboard() as d:
        path = await d.link()
        token = path.rsplit("/", 1)[1]
        signed = await d.use(path)
        session_token = signed.cookies[COOKIE].value.rpartition(".")[0]
        async with d.world.uow() as uow:
            session = uow.session  # type: ignore[attr-defined]
            links = (await session.execute(text("SELECT * FROM dashboard_links"))).all()
            sessions = (await session.execute(text("SELECT * FROM dashboard_sessions"))).all()
        dump = repr(links) + repr(sessions)
        assert token not in dump and session_token not in dump
        assert hashlib.sha256(token.encode()).hexdigest() in dump
        assert hashlib.sha256(session_token.encode()).hexdigest() in dump


async def test_a_new_session_at_each_sign_in_and_sign_out_ends_it() -> None:
    async with dashboard() as d:
        one = (await d.sign_in()).cookies[COOKIE].value
        two = (await d.sign_in()).cookies[COOKIE].value
        assert one != two
        form = await d.form("/dashboard/", "/dashboard/signout")
        out = await d.client.post("/dashboard/signout", data=form, allow_redirects=False)
        assert out.status == 303
        d.client.session.cookie_jar.update_cookies({COOKIE: two})
        after = await d.client.get("/dashboard/")
        assert after.status == 401 and "not signed in" in await after.text()


async def test_an_expired_link_is_refused_in_the_groups_language() -> None:
    async with dashboard() as d:
        async with d.world.uow() as uow:
            await uow.groups.update(replace(d.world.group, language=Language.NB))
        path = await d.link()
        d.world.later(minutes=11)
        refused = await d.use(path)
        assert refused.status == 403
        body = await refused.text()
        assert "Denne innloggingslenken er utløpt" in body and 'lang="nb"' in body


async def test_a_link_under_another_groups_address_is_refused() -> None:
    async with dashboard() as d:
        await d.world.bot.group("other")
        path = await d.link()
        forged = path.replace("/signin/local/", "/signin/other/")
        refused = await d.use(forged)
        assert refused.status == 403 and "belongs to another group" in await refused.text()
        # The link still works where it belongs: a refusal does not use it.
        assert (await d.use(path)).status == 303


async def test_members_get_no_link() -> None:
    async with dashboard() as d:
        with pytest.raises(PermissionDenied):
            await d.service.link(d.world.group, INGRID)


async def test_too_many_attempts_lock_the_address_out_even_with_a_good_link() -> None:
    async with dashboard() as d:
        good = await d.link()
        for i in range(MAX_FAILURES):
            bad = await d.use(f"/dashboard/signin/local/{'x' * 30}{i}")
            assert bad.status == 403 and "does not work" in await bad.text()
        locked = await d.use(good)
        assert locked.status == 403 and "Too many sign-in attempts" in await locked.text()


async def test_a_post_without_the_csrf_token_changes_nothing() -> None:
    async with dashboard() as d:
        await d.sign_in()
        form = await d.form("/dashboard/questions", "/dashboard/questions/add")
        before = await _queue(d)
        form.pop("csrf")
        refused = await d.client.post(
            "/dashboard/questions/add", data=form | {"text": "Forged?"}, allow_redirects=False
        )
        assert refused.status == 403
        assert "did not come from your dashboard page" in await refused.text()
        assert await _queue(d) == before
        audit = await (await d.client.get("/dashboard/audit")).text()
        assert "refused, nothing changed" in audit


async def test_a_replayed_post_is_refused_and_adds_nothing_twice() -> None:
    async with dashboard() as d:
        await d.sign_in()
        form = await d.form("/dashboard/questions", "/dashboard/questions/add")
        data = form | {"text": "What did your last critique teach you?", "theme": "critique"}
        first = await d.client.post("/dashboard/questions/add", data=data, allow_redirects=False)
        assert first.status == 303
        again = await d.client.post("/dashboard/questions/add", data=data, allow_redirects=False)
        assert again.status == 409 and "sent already" in await again.text()
        texts = [p.text for p in await _queue(d)]
        assert texts.count("What did your last critique teach you?") == 1


async def test_another_groups_question_id_is_refused_and_left_alone() -> None:
    async with dashboard() as d:
        await d.world.bot.group("other")
        async with d.world.uow() as uow:
            theirs = await uow.prompts.add(
                Prompt(
                    0,
                    "other",
                    "open",
                    "Their question?",
                    PromptStatus.SUGGESTED,
                    d.world.ws.clock.now(),
                )
            )
        await d.sign_in()
        form = await d.form("/dashboard/questions", "/dashboard/questions/add")
        refused = await d.client.post(
            f"/dashboard/questions/{theirs.id}/accept", data=form, allow_redirects=False
        )
        assert refused.status == 400
        async with d.world.uow() as uow:
            still = await uow.prompts.get("other", theirs.id)
        assert still is not None and still.status is PromptStatus.SUGGESTED
        audit = await (await d.client.get("/dashboard/audit")).text()
        assert "Accepted a suggestion (refused, nothing changed)" in audit


@pytest.mark.parametrize("chunked", [False, True])
async def test_an_oversized_body_is_refused_before_it_is_read(chunked: bool) -> None:
    async with dashboard() as d:
        await d.sign_in()
        form = await d.form("/dashboard/questions", "/dashboard/questions/add")
        before = await _queue(d)
        body = "&".join(f"{k}={v}" for k, v in form.items()) + "&text=" + "a" * 100_000

        async def gen():  # type: ignore[no-untyped-def]
            yield body.encode()

        refused = await d.client.post(
            "/dashboard/questions/add",
            data=gen() if chunked else body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
        )
        assert refused.status == 413 and "far too large" in await refused.text()
        assert await _queue(d) == before


async def test_revoked_staff_are_signed_out_at_their_next_click() -> None:
    async with dashboard() as d:
        kari = await make_staff(d.world, "kari", "Kari", d.world.ws.clock.now())
        assert (await d.sign_in(kari)).status == 303
        assert (await d.client.get("/dashboard/questions")).status == 200
        await revoke_staff(d.world, "kari")
        out = await d.client.get("/dashboard/questions")
        assert out.status == 401 and "no longer staff" in await out.text()
        # Given the role back, the ended session stays ended: a new link is needed.
        await make_staff(d.world, "kari", "Kari", d.world.ws.clock.now())
        assert (await d.client.get("/dashboard/questions")).status == 401


async def test_a_link_of_staff_revoked_before_use_signs_nobody_in() -> None:
    async with dashboard() as d:
        kari = await make_staff(d.world, "kari", "Kari", d.world.ws.clock.now())
        path = await d.link(kari)
        await revoke_staff(d.world, "kari")
        refused = await d.use(path)
        assert refused.status == 403 and "no longer staff" in await refused.text()


async def test_every_page_and_refusal_carries_the_security_headers() -> None:
    async with dashboard() as d:
        anonymous = await d.client.get("/dashboard/")
        await d.sign_in()
        for response in (anonymous, await d.client.get("/dashboard/numbers?weeks=4")):
            assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["Referrer-Policy"] == "same-origin"
        bad = await d.client.get("/dashboard/numbers?weeks=999")
        assert bad.status == 400 and "weeks" in await bad.text()
        assert bad.headers["X-Frame-Options"] == "DENY"


async def test_the_cookie_is_secure_behind_an_https_address() -> None:
    async with dashboard("https://alumni.example.org") as d:
        path = URL(await d.service.link(d.world.group, STAFF)).path
        page = await d.client.get(path)
        assert page.cookies[SIGNIN_COOKIE]["secure"]
        check = page.cookies[SIGNIN_COOKIE].value
        # The test client speaks http, so it holds back Secure cookies: sent as a browser on
        # https would send it.
        signed = await d.client.post(
            path,
            data={"check": check},
            headers={"Cookie": f"{SIGNIN_COOKIE}={check}"},
            allow_redirects=False,
        )
        assert signed.status == 303 and signed.cookies[COOKIE]["secure"]


async def test_a_forged_cookie_signature_is_no_session() -> None:
    async with dashboard() as d:
        value = (await d.sign_in()).cookies[COOKIE].value
        token, _, mac = value.rpartition(".")
        d.client.session.cookie_jar.clear()
        d.client.session.cookie_jar.update_cookies({COOKIE: f"{token}.{'0' * len(mac)}"})
        assert (await d.client.get("/dashboard/")).status == 401


async def test_the_csv_is_in_the_groups_language_and_safe_in_a_spreadsheet() -> None:
    async with dashboard() as d:
        async with d.world.uow() as uow:
            await uow.groups.update(replace(d.world.group, language=Language.NB))
        await d.sign_in()
        weekly = await d.client.get("/dashboard/numbers/weekly.csv?weeks=3")
        body = (await weekly.read()).decode("utf-8")
        assert body.startswith("\ufeffUken begynner,Uke,Innlegg,Svar")
        assert len(body.strip().splitlines()) == 4
        assert "uker-3.csv" in weekly.headers["Content-Disposition"]
        assert (await d.client.get("/dashboard/numbers/secrets.csv")).status == 404


async def test_the_address_without_its_slash_and_the_root_lead_to_the_dashboard() -> None:
    async with dashboard() as d:
        for path in ("/dashboard", "/"):
            moved = await d.client.get(path, allow_redirects=False)
            assert moved.status == 302 and moved.headers["Location"] == "/dashboard/"
