"""The dashboard attacked as an attacker and a careless user would: ids of another group, forged
and replayed forms, redirects, path tricks, markup in every name shown, odd rosters and races.
Each asserts what the staff member sees and what the database holds afterwards."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from aiohttp import FormData

from adapters.web.people import member_path
from bot.cogs.onboarding.invitations import InvitationService
from bot.cogs.onboarding.records import CodeKind
from bot.cogs.onboarding.roles import RoleService
from bot.cogs.prompts.records import Prompt, PromptStatus
from bot.domain import Member
from bot.errors import UserError
from tests.features.helpers import STAFF
from tests.web.helpers import Dash, dashboard, make_staff
from tests.web.test_cohorts import ROSTER, _create, _roster, _upload

pytestmark = pytest.mark.asyncio

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def _no_markup(html: str) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html, html


async def _member(d: Dash, user_id: str, name: str) -> None:
    async with d.world.uow() as uow:
        await uow.members.save(Member("local", user_id, name, joined_at=d.world.ws.clock.now()))


# -- paths and redirects ----------------------------------------------------------------------


async def test_a_forged_back_field_never_leads_off_the_dashboard() -> None:
    async with dashboard() as d:
        await d.sign_in()
        for back in ("https://evil.example/", "//evil.example/", "/dashboard/../x", "\\\\evil"):
            done = await d.post(
                "/dashboard/questions", "/dashboard/questions/add", text=f"Q {back}?", back=back
            )
            assert done.status == 303 and done.headers["Location"] == "/dashboard/questions"


@pytest.mark.parametrize(
    "user_id", ["per/ola", "../../audit", "a%2Fb", "øyvind", "U" + "x" * 3000, "a?b#c"]
)
async def test_odd_member_ids_open_their_own_page_or_a_clear_refusal(user_id: str) -> None:
    async with dashboard() as d:
        await d.sign_in()
        await _member(d, user_id, "Odd One")
        listed = await (await d.client.get("/dashboard/members")).text()
        href = re.search(r'<a href="(/dashboard/members/[^"]+)">Odd One</a>', listed)
        assert href, listed
        page = await d.client.get(href[1].replace("&amp;", "&"))
        assert page.status == 200 and "Odd One" in await page.text(), href[1]
        # Someone nobody recorded, by a very long or odd id: a clear 404, nothing else.
        for nobody in ("x" * 5000, "%E2%80%AE", "%2F..%2Faudit"):
            gone = await d.client.get(f"/dashboard/members/{nobody}")
            assert gone.status == 404 and "There is no member" in await gone.text()


# -- members search ---------------------------------------------------------------------------


async def test_search_takes_like_characters_literally_and_odd_pages_and_filters() -> None:
    async with dashboard() as d:
        await d.world.bot.group("other")
        async with d.world.uow() as uow:
            theirs = await uow.cohorts.add(
                "other", "Theirs", 2026, "Theirs 2026", None, "x", d.world.ws.clock.now()
            )
        assert theirs is not None
        for uid, name in (("a", "100% Kari"), ("b", "Per_Hansen"), ("c", "Ola Nordmann")):
            await _member(d, uid, name)
        await d.sign_in()

        async def names(query: str) -> list[str]:
            page = await d.client.get(f"/dashboard/members?{query}")
            assert page.status == 200, query
            return re.findall(r'">([^<]+)</a>', (await page.text()).split("<table", 1)[-1])

        assert "100% Kari" in await names("q=%25")
        assert "Ola Nordmann" not in await names("q=%25")
        assert await names("q=_") == ["Per_Hansen"]
        for odd in ("page=-1", "page=abc", "page=99999", "page=1e9", "q=" + "x" * 5_000):
            assert (await d.client.get(f"/dashboard/members?{odd}")).status == 200, odd
        assert "Ola Nordmann" in await names("page=99999")
        # Another group's cohort id as a filter is no filter: everyone here is listed.
        assert "Ola Nordmann" in await names(f"cohort={theirs.id}")
        assert "Ola Nordmann" in await names(f"role=cohort:{theirs.id}")


# -- markup in names ----------------------------------------------------------------------------


async def test_markup_in_every_name_is_shown_as_text() -> None:
    async with dashboard() as d:
        d.world.ws.add_member(SCRIPT, None)
        await _member(d, SCRIPT.lower(), SCRIPT)
        img = d.world.ws.add_member(IMG, None)
        await _member(d, img, IMG)
        await _member(d, "js", "javascript:alert(1)")
        now = d.world.ws.clock.now()
        async with d.world.uow() as uow:
            await uow.invitations.add(
                "local", "MARK2345", CodeKind.FRIEND, None, "industry", 5, None, img, now
            )
        await d.sign_in()
        pages = ["/dashboard/members", "/dashboard/members?q=%3Cscript", "/dashboard/codes"]
        for page in pages:
            html = await (await d.client.get(page)).text()
            _no_markup(html)
        members = await (await d.client.get("/dashboard/members")).text()
        assert 'href="javascript:' not in members
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in members
        page = member_path(img)
        granted = await d.post(page, "/dashboard/members/grant", user=img, role="alumni")
        assert granted.status == 303
        _no_markup(await (await d.client.get(page)).text())
        cohort = await _create(d, program=IMG)
        _no_markup(await (await d.client.get("/dashboard/cohorts")).text())
        _no_markup(await (await d.client.get(f"/dashboard/cohorts/{cohort}")).text())
        _, where = await _upload(d, cohort, f"{SCRIPT},kari@example.no\n{IMG}\n".encode())
        preview = await (await d.client.get(where)).text()
        _no_markup(preview)
        assert "kari@example.no" in preview
        for text in (SCRIPT, IMG):
            added = await d.post("/dashboard/questions", "/dashboard/questions/add", text=text)
            assert added.status == 303
        _no_markup(await (await d.client.get("/dashboard/questions")).text())
        _no_markup(await (await d.client.get("/dashboard/audit")).text())
        _no_markup(await (await d.client.get("/dashboard/")).text())


async def test_download_names_carry_no_header_of_their_own() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d, program='Evil"\r\nSet-Cookie: x=1')
        sheet = await d.client.get(f"/dashboard/cohorts/{cohort}/status.csv")
        assert sheet.status == 200
        assert "Set-Cookie" not in sheet.headers
        assert re.fullmatch(
            r'attachment; filename="[\w-]+\.csv"', sheet.headers["Content-Disposition"]
        )
        forged = await d.client.get(f'/dashboard/cohorts/{cohort}/file/a"%0d%0aX-Evil:%201.csv')
        assert forged.status == 404 and "X-Evil" not in forged.headers


# -- roster uploads -----------------------------------------------------------------------------


async def test_a_giant_line_and_a_hundred_thousand_lines_answer_quickly_and_clearly() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        started = time.monotonic()
        status, text = await _upload(d, cohort, b"k" * 999_000)
        assert status == 400, text
        assert "a roster can hold at most 500,000 characters (this one has 999,000)" in text
        many = "".join(f"u{i}@e.no\n" for i in range(40_000)).encode()
        status, where = await _upload(d, cohort, many)
        assert status == 303, where
        preview = await (await d.client.get(where)).text()
        assert "40,000 addresses will be imported" in preview
        lines = b"ab\n" * 100_000
        status, where = await _upload(d, cohort, lines)
        assert status == 303, where
        preview = await (await d.client.get(where)).text()
        # The first line holds no address: read as the file's header, as the command reads it.
        assert "99,999 lines are refused" in preview
        assert time.monotonic() - started < 30
        assert await _roster(d, cohort) == []


async def test_a_utf16_file_and_an_odd_file_name_are_read_and_shown_as_text() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        data = "\ufeffNavn;E-post\r\nÅse Ødegård;ase@example.no\r\n".encode("utf-16-le")
        status, where = await _upload(d, cohort, data, name='..\\..\\"evil<b>.csv')
        assert status == 303, where
        preview = await (await d.client.get(where)).text()
        assert "Åse Ødegård" in preview and "ase@example.no" in preview
        assert "<b>.csv" not in preview
        done = await d.post(where, where)
        assert done.status == 303
        assert await _roster(d, cohort) == ["ase@example.no"]


async def test_a_confirm_without_its_csrf_token_imports_nothing() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        _, where = await _upload(d, cohort, ROSTER.encode())
        form = await d.form(where, where)
        for forged in ({"csrf": ""}, {"csrf": "0" * 32}, {"nonce": "x"}):
            refused = await d.client.post(where, data=form | forged, allow_redirects=False)
            assert refused.status == 403 and "did not come from your dashboard" in (
                await refused.text()
            )
        assert await _roster(d, cohort) == []
        # A cross-site form sends no cookie: it is nobody's post.
        d.client.session.cookie_jar.clear()
        nobody = await d.client.post(where, data=form, allow_redirects=False)
        assert nobody.status == 401
        assert await _roster(d, cohort) == []


async def test_two_confirms_at_once_import_once() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        _, where = await _upload(d, cohort, ROSTER.encode())
        first, second = await d.form(where, where), await d.form(where, where)
        answers = await asyncio.gather(
            d.client.post(where, data=first, allow_redirects=False),
            d.client.post(where, data=second, allow_redirects=False),
        )
        assert sorted(a.status for a in answers) == [303, 400]
        assert await _roster(d, cohort) == ["kari@example.no", "ola@example.no"]
        audit = await (await d.client.get("/dashboard/audit")).text()
        assert audit.count("Imported a roster (refused") == 1


async def test_two_uploads_racing_for_one_cohort_leave_one_to_confirm() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        page = f"/dashboard/cohorts/{cohort}"

        async def send(data: bytes) -> str:
            form = FormData()
            for key, value in (await d.form(page, f"{page}/roster")).items():
                form.add_field(key, value)
            form.add_field("roster", data, filename="r.csv", content_type="text/csv")
            answer = await d.client.post(f"{page}/roster", data=form, allow_redirects=False)
            assert answer.status == 303
            return answer.headers["Location"]

        a, b = await asyncio.gather(send(b"a@example.no\n"), send(b"b@example.no\n"))
        results = []
        for where in (a, b):
            form = await d.form(page, f"{page}/roster")
            done = await d.client.post(where, data=form, allow_redirects=False)
            results.append(done.status)
        assert sorted(results) == [303, 400]
        assert len(await _roster(d, cohort)) == 1


# -- roles --------------------------------------------------------------------------------------


async def test_staff_who_are_not_admins_grant_staff_as_the_command_lets_them() -> None:
    async with dashboard() as d:
        now = d.world.ws.clock.now()
        d.world.ws.add_member("Kari", None)
        d.world.ws.add_member("Per", None)
        kari = await make_staff(d.world, "kari", "Kari", now)
        await _member(d, "per", "Per")
        await d.sign_in(kari)
        page = "/dashboard/members/per"
        # README: staff is "granted only from a code, a roster or another staff member".
        done = await d.post(page, "/dashboard/members/grant", user="per", role="staff")
        assert done.status == 303
        assert "Per now has the role" in await (await d.client.get(page)).text()
        async with d.world.uow() as uow:
            per = await uow.members.get("local", "per")
        assert per is not None and "staff" in per.roles


async def test_an_archived_cohorts_role_is_not_granted() -> None:
    async with dashboard() as d:
        await d.sign_in()
        d.world.ws.add_member("Per", None)
        await _member(d, "per", "Per")
        cohort = await _create(d, program="Old", year="2020")
        archived = await d.post(
            f"/dashboard/cohorts/{cohort}", f"/dashboard/cohorts/{cohort}/archive"
        )
        assert archived.status == 303, await archived.text()
        page = "/dashboard/members/per"
        assert f"cohort:{cohort}" not in await (await d.client.get(page)).text()
        refused = await d.post(
            page, "/dashboard/members/grant", user="per", role=f"cohort:{cohort}"
        )
        assert refused.status == 400
        assert "Old 2020 is archived: its role is no longer given" in await refused.text()
        # `/alumni role grant` refuses it the same way (one RoleService for both).
        with pytest.raises(UserError) as typed:
            await d.world.bot.service(RoleService).grant(
                d.world.group, STAFF, "per", f"cohort:{cohort}"
            )
        assert typed.value.key == "onboarding.role_cohort_archived"
        async with d.world.uow() as uow:
            member = await uow.members.get("local", "per")
            entered = await uow.cohorts.member_cohort("local", "per")
        assert member is not None and f"cohort:{cohort}" not in member.roles
        assert entered is None


# -- the queue's order --------------------------------------------------------------------------


async def _queue(d: Dash, *texts: str) -> list[int]:
    ids = []
    async with d.world.uow() as uow:
        for text in texts:
            made = await uow.prompts.add(
                Prompt(0, "local", "open", text, PromptStatus.ACCEPTED, d.world.ws.clock.now())
            )
            ids.append(made.id)
    return ids


async def _order(d: Dash) -> list[str]:
    page = await (await d.client.get("/dashboard/questions")).text()
    return re.findall(r"(Q[0-9]\?)", page.split("</nav>", 1)[-1])


async def test_moving_past_either_end_or_a_posted_question_changes_nothing() -> None:
    async with dashboard() as d:
        await d.sign_in()
        first, _, last = await _queue(d, "Q1?", "Q2?", "Q3?")
        before = await _order(d)
        form = await d.form("/dashboard/questions", "/dashboard/questions/add")
        up = await d.client.post(
            f"/dashboard/questions/{first}/up", data=form, allow_redirects=False
        )
        assert up.status in (303, 400)
        form = await d.form("/dashboard/questions", "/dashboard/questions/add")
        down = await d.client.post(
            f"/dashboard/questions/{last}/down", data=form, allow_redirects=False
        )
        assert down.status in (303, 400)
        assert await _order(d) == before
        async with d.world.uow() as uow:
            await uow.prompts.mark_posted("local", first, d.world.ws.clock.now())
            posted = await uow.prompts.add(
                Prompt(0, "local", "open", "Q9?", PromptStatus.POSTED, d.world.ws.clock.now())
            )
        form = await d.form("/dashboard/questions", "/dashboard/questions/add")
        refused = await d.client.post(
            f"/dashboard/questions/{posted.id}/down", data=form, allow_redirects=False
        )
        assert refused.status == 400 and "not in the queue" in await refused.text()


# Moves at once are tested on PostgreSQL (tests/test_prompts_move_pg.py): the in-memory SQLite
# of these tests shares one connection between requests, so it cannot show a race.


async def test_a_multipart_post_of_many_thousand_fields_is_refused_at_once() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        page = f"/dashboard/cohorts/{cohort}"
        tokens = await d.form(page, f"{page}/roster")
        boundary = "b0undary"
        fields = {**tokens, **{f"f{i}": "x" for i in range(15_000)}}
        body = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        ) + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="roster"; '
            f'filename="r.csv"\r\n\r\nkari@example.no\r\n--{boundary}--\r\n'
        )
        started = time.monotonic()
        # Parsing 15,000 parts held the bot's one event loop for seconds, before any sign-in
        # was checked: anyone could stall the bot (and the Slack events it serves) this way.
        refused = await d.client.post(
            f"{page}/roster",
            data=body.encode(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            allow_redirects=False,
        )
        assert refused.status == 400 and "That form could not be read" in await refused.text()
        assert time.monotonic() - started < 2
        assert await _roster(d, cohort) == []


async def test_a_multipart_boundary_outside_latin1_is_a_form_refused() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        refused = await d.client.post(
            f"/dashboard/cohorts/{cohort}/roster",
            data=b"--\xc3\xb8\r\n",
            headers={"Content-Type": "multipart/form-data; boundary=\u00f8\u2603"},
            allow_redirects=False,
        )
        assert refused.status == 400 and "That form could not be read" in await refused.text()


async def test_revoking_the_owners_or_ones_own_staff_role_works_as_the_command() -> None:
    async with dashboard() as d:
        now = d.world.ws.clock.now()
        d.world.ws.add_member("Kari", None)
        kari = await make_staff(d.world, "kari", "Kari", now)
        await _member(d, "owner", "owner")
        async with d.world.uow() as uow:
            await uow.roles.grant("local", "owner", "staff", "test", "owner", now)
        d.world.ws.state["members"]["owner"]["roles"].append("staff")
        await d.sign_in(kari)
        page = "/dashboard/members/owner"
        taken = await d.post(page, "/dashboard/members/revoke", user="owner", role="staff")
        assert taken.status == 303
        # The owner is an admin by the platform: still let in, as the commands let them in.
        other = Dash(d.client, d.world)
        jar = d.client.session.cookie_jar
        mine = {c.key: c.value for c in jar}
        jar.clear()
        await other.sign_in()
        assert (await d.client.get("/dashboard/members")).status == 200
        jar.clear()
        jar.update_cookies(mine)
        gone = await d.post(
            "/dashboard/members/kari", "/dashboard/members/revoke", user="kari", role="staff"
        )
        assert gone.status == 303
        after = await d.client.get("/dashboard/members")
        assert after.status == 401 and "no longer staff" in await after.text()


async def test_a_nul_character_anywhere_is_refused_clearly_and_nothing_is_stored() -> None:
    # PostgreSQL refuses NUL in any text column: each of these was a server error there.
    async with dashboard() as d:
        await d.sign_in()
        for path in ("/dashboard/members?q=a%00b", "/dashboard/members/a%00b"):
            refused = await d.client.get(path)
            assert refused.status == 400, path
            assert "holds a character no page of ours takes" in await refused.text()
        added = await d.post(
            "/dashboard/questions", "/dashboard/questions/add", text="What\x00 now?"
        )
        assert added.status == 400 and "That form could not be read" in await added.text()
        cohort = await _create(d)
        page = f"/dashboard/cohorts/{cohort}"
        tokens = await d.form(page, f"{page}/roster")
        body = "".join(
            f'--b0\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in tokens.items()
        ) + (
            '--b0\r\nContent-Disposition: form-data; name="roster"; '
            "filename*=utf-8''a%00.csv\r\n\r\nkari@example.no\r\n--b0--\r\n"
        )
        named = await d.client.post(
            f"{page}/roster",
            data=body.encode(),
            headers={"Content-Type": "multipart/form-data; boundary=b0"},
            allow_redirects=False,
        )
        assert named.status == 400 and "That form could not be read" in await named.text()
        async with d.world.uow() as uow:
            prompts = await uow.prompts.for_group("local")
        assert not any("now?" in p.text for p in prompts)
        assert await _roster(d, cohort) == []


async def test_odd_numbers_in_addresses_and_fields_are_refused_clearly() -> None:
    async with dashboard() as d:
        await d.sign_in()
        # "²" is a digit to str.isdigit() but no number to int().
        for page in ("²", "١٢", "9" * 6, "9" * 5000):
            shown = await d.client.get(f"/dashboard/members?page={page}")
            assert shown.status == 200, page
        huge = "9" * 20  # beyond a 64-bit id: no question's
        for move in ("up", "down"):
            form = await d.form("/dashboard/questions", "/dashboard/questions/add")
            refused = await d.client.post(
                f"/dashboard/questions/{huge}/{move}", data=form, allow_redirects=False
            )
            assert refused.status == 400
            assert "That question does not exist in this group" in await refused.text()
        for action in ("accept", "reject", "edit"):
            form = await d.form("/dashboard/questions", "/dashboard/questions/add")
            refused = await d.client.post(
                f"/dashboard/questions/{huge}/{action}",
                data=form | {"text": "Q?"},
                allow_redirects=False,
            )
            assert refused.status == 400, action
            assert "That question does not exist in this group" in await refused.text()
        assert (await d.client.get(f"/dashboard/questions/{huge}/edit")).status == 404
        for req in (huge, "9" * 5000, "²"):
            form = await d.form("/dashboard/questions", "/dashboard/questions/add")
            refused = await d.client.post(
                "/dashboard/approvals/decide",
                data=form | {f"req_{req}": "on", "verdict": "approve"},
                allow_redirects=False,
            )
            assert refused.status == 400, req
            assert "That button no longer works" in await refused.text(), req


async def test_an_archived_cohort_takes_no_roster_by_its_address() -> None:
    async with dashboard() as d:
        await d.sign_in()
        d.world.ws.add_member("Kari", "kari@example.no")
        await _member(d, "kari", "Kari")
        cohort = await _create(d, program="Old", year="2020")
        page = f"/dashboard/cohorts/{cohort}"
        assert (await d.post(page, f"{page}/archive")).status == 303
        # Hidden from the list, but its address still opens: an import there would give its
        # role to members already here (kari), the grant refused on the member page.
        status, where = await _upload(d, cohort, b"kari@example.no\nola@example.no\n")
        assert status == 303, where
        refused = await d.post(where, where)
        assert refused.status in (303, 400)
        shown = (
            await (await d.client.get(refused.headers.get("Location", page))).text()
            + await refused.text()
        )
        assert "Old 2020 is archived: it takes no new members" in shown
        assert await _roster(d, cohort) == []
        async with d.world.uow() as uow:
            kari = await uow.members.get("local", "kari")
        assert kari is not None and f"cohort:{cohort}" not in kari.roles
        with pytest.raises(UserError) as typed:
            await d.world.bot.service(InvitationService).plan_cohort_invite(
                d.world.group, str(cohort), None
            )
        assert typed.value.key == "onboarding.invite_cohort_archived"
