"""The Cohorts pages over a real socket: creating, a roster's upload, preview and import, and
the refusals (an oversized or unreadable file, another group's cohort, a forged confirm, a
post without its CSRF token), each as the staff member sees it and as the database holds it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from aiohttp import FormData

from adapters.web.app import MAX_UPLOAD
from bot.cogs.mail.invitations import InvitationService
from bot.domain import Language
from tests.web.helpers import Dash, dashboard

pytestmark = pytest.mark.asyncio

ROSTER = (
    "navn;e-post\nKari Nordmann;kari@example.no\nPer Hansen;per(at)example.no\nOla;ola@example.no\n"
)
_UPLOAD = re.compile(r"/dashboard/cohorts/(\d+)/roster/([0-9a-f]{32})")


async def _create(d: Dash, program: str = "Fashion", year: str = "2026", **more: str) -> int:
    made = await d.post(
        "/dashboard/cohorts", "/dashboard/cohorts/create", program=program, year=year, **more
    )
    assert made.status == 303, await made.text()
    found = re.fullmatch(r"/dashboard/cohorts/(\d+)", made.headers["Location"])
    assert found, made.headers["Location"]
    return int(found[1])


async def _upload(
    d: Dash, cohort: int, data: bytes, name: str = "class.csv", **fields: str
) -> tuple[int, str]:
    page = f"/dashboard/cohorts/{cohort}"
    form = FormData()
    for key, value in ((await d.form(page, f"{page}/roster")) | fields).items():
        form.add_field(key, value)
    form.add_field("roster", data, filename=name, content_type="text/csv")
    response = await d.client.post(f"{page}/roster", data=form, allow_redirects=False)
    return response.status, (
        response.headers.get("Location", "") if response.status == 303 else await response.text()
    )


async def _roster(d: Dash, cohort: int) -> list[str]:
    async with d.world.uow() as uow:
        return sorted(e.email for e in await uow.roster.entries(d.world.group.id, cohort))


async def test_create_upload_preview_and_import_a_roster_with_a_bad_line() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d, graduates="15. juni 2030")
        async with d.world.uow() as uow:
            made = await uow.cohorts.get(d.world.group.id, cohort)
        assert made is not None and made.name == "Fashion 2026"
        assert made.graduates_on == date(2030, 6, 15)
        status, where = await _upload(d, cohort, ROSTER.encode("cp1252"))
        assert status == 303 and _UPLOAD.fullmatch(where), where
        preview = await (await d.client.get(where)).text()
        assert "2 addresses will be imported" in preview and "1 line is refused" in preview
        # The refused line with its number in the teacher's file (the header is line 1).
        assert re.search(r"<td>3</td><td>Per Hansen per\(at\)example.no</td>", preview), preview
        assert await _roster(d, cohort) == []  # the preview imported nothing
        done = await d.post(where, where)
        assert done.status == 303 and done.headers["Location"] == f"/dashboard/cohorts/{cohort}"
        assert await _roster(d, cohort) == ["kari@example.no", "ola@example.no"]
        page = await (await d.client.get(f"/dashboard/cohorts/{cohort}")).text()
        assert "kari@example.no" in page and "Kari Nordmann" in page
        audit = await (await d.client.get("/dashboard/audit")).text()
        assert "Created a cohort" in audit and "Imported a roster" in audit
        # The upload is spent: the same confirm again imports nothing a second time.
        again = await d.client.post(
            where,
            data=await d.form(
                f"/dashboard/cohorts/{cohort}", f"/dashboard/cohorts/{cohort}/remind"
            ),
        )
        assert again.status == 400 and "no longer waiting" in await again.text()


async def test_the_status_downloads_as_csv_with_formulas_quoted() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        _, where = await _upload(d, cohort, b"=HYPERLINK(1),evil@example.no\n")
        await d.post(where, where, send="")
        sheet = await d.client.get(f"/dashboard/cohorts/{cohort}/status.csv")
        assert sheet.status == 200 and sheet.content_type == "text/csv"
        text = (await sheet.read()).decode("utf-8-sig")
        assert "evil@example.no" in text and "'=HYPERLINK(1)" in text


async def test_an_oversized_upload_is_refused_in_the_groups_language() -> None:
    async with dashboard() as d:
        async with d.world.uow() as uow:
            await uow.groups.update(replace(d.world.group, language=Language.NB))
        await d.sign_in()
        cohort = await _create(d)
        status, text = await _upload(d, cohort, b"a@example.no\n" * (MAX_UPLOAD // 13 + 10))
        assert status == 413 and "Filen er for stor" in text and "1 MB" in text, text
        assert await _roster(d, cohort) == []


async def test_an_oversized_upload_without_a_length_is_refused_too() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        page = f"/dashboard/cohorts/{cohort}"
        tokens = await d.form(page, f"{page}/roster")
        boundary = "b0undary"
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in tokens.items()
        )
        file_head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="roster"; '
            'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
        )

        async def chunks():  # type: ignore[no-untyped-def]
            yield (head + file_head).encode()
            for _ in range(MAX_UPLOAD // 65536 + 2):
                yield b"x@example.no\n" * 5042
            yield f"\r\n--{boundary}--\r\n".encode()

        refused = await d.client.post(
            f"{page}/roster",
            data=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            allow_redirects=False,
        )
        assert refused.status == 413 and "too large" in await refused.text()
        assert await _roster(d, cohort) == []


async def test_a_roster_with_windows_line_ends_and_no_last_newline_reads_every_line() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        data = "Navn;E-post\r\nÅse Ødegård;ase@example.no\r\nBjørn;bjorn@example.no".encode()
        _, where = await _upload(d, cohort, data)
        preview = await (await d.client.get(where)).text()
        assert "Åse Ødegård" in preview and "bjorn@example.no" in preview
        assert "2 addresses will be imported" in preview and "0 lines are refused" in preview


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"PK\x03\x04\x00\x00kari@example.no", "class.xlsx"),  # a spreadsheet, not its CSV
        (b"\xff\xfek\x00a\x00r", "class.csv"),  # UTF-16 by its BOM, cut mid-character
    ],
)
async def test_a_file_that_is_no_text_is_refused_and_recorded(data: bytes, name: str) -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        status, text = await _upload(d, cohort, data, name)
        assert status == 400 and "is not a text file" in text and name in text
        assert await _roster(d, cohort) == []
        audit = await (await d.client.get("/dashboard/audit")).text()
        assert "Uploaded a roster (not imported yet) (refused, nothing changed)" in audit


async def test_an_upload_without_its_csrf_token_is_refused() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        status, text = await _upload(d, cohort, ROSTER.encode(), csrf="forged")
        assert status == 403 and "did not come from your dashboard page" in text


async def test_another_groups_cohort_is_refused_for_every_form_and_logged() -> None:
    async with dashboard() as d:
        await d.world.bot.group("other")
        async with d.world.uow() as uow:
            theirs = await uow.cohorts.add(
                "other", "Theirs", 2026, "Theirs 2026", None, "x", d.world.ws.clock.now()
            )
        assert theirs is not None
        await d.sign_in()
        mine = await _create(d)
        page = f"/dashboard/cohorts/{mine}"
        assert (await d.client.get(f"/dashboard/cohorts/{theirs.id}")).status == 400
        assert (await d.client.get(f"/dashboard/cohorts/{theirs.id}/status.csv")).status == 400
        _, where = await _upload(d, mine, ROSTER.encode())
        upload = _UPLOAD.fullmatch(where)
        assert upload
        for action in ("archive", "remind", "edit", "roster", f"roster/{upload[2]}"):
            form = await d.form(page, f"{page}/edit") | {"graduates": "2031-06-15"}
            refused = await d.client.post(
                f"/dashboard/cohorts/{theirs.id}/{action}", data=form, allow_redirects=False
            )
            assert refused.status == 400 and "There is no cohort" in await refused.text()
        async with d.world.uow() as uow:
            still = await uow.cohorts.get("other", theirs.id)
        assert still is not None and still.archived_at is None and still.graduates_on is None
        audit = await (await d.client.get("/dashboard/audit")).text()
        assert "Archived a cohort (refused, nothing changed)" in audit


async def test_a_confirm_for_another_cohort_than_the_upload_is_refused() -> None:
    async with dashboard() as d:
        await d.sign_in()
        first = await _create(d, "Fashion")
        second = await _create(d, "Design")
        _, where = await _upload(d, first, ROSTER.encode())
        upload = _UPLOAD.fullmatch(where)
        assert upload
        forged = f"/dashboard/cohorts/{second}/roster/{upload[2]}"
        refused = await d.client.post(
            forged, data=await d.form(where, where), allow_redirects=False
        )
        assert refused.status == 400 and "a cohort other than" in await refused.text()
        assert await _roster(d, first) == [] and await _roster(d, second) == []


async def test_a_wrong_date_is_refused_as_the_command_refuses_it() -> None:
    async with dashboard() as d:
        await d.sign_in()
        refused = await d.post(
            "/dashboard/cohorts",
            "/dashboard/cohorts/create",
            program="Fashion",
            year="2026",
            graduates="31.02.2030",
        )
        assert refused.status == 400 and "must be a date" in await refused.text()
        async with d.world.uow() as uow:
            assert await uow.cohorts.for_group(d.world.group.id) == []


async def test_a_big_roster_within_the_cap_is_read_whole() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        lines = [f"Student {n};s{n}@example.no" for n in range(4000)]  # ~100 kB
        status, where = await _upload(d, cohort, "\n".join(lines).encode())
        assert status == 303, where
        preview = await (await d.client.get(where)).text()
        assert "4,000 addresses will be imported" in preview


async def test_where_no_email_goes_the_codes_file_downloads_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As on Discord or Slack without a mail server: the teacher gets the codes to hand out.
    monkeypatch.setattr(InvitationService, "emails_go", lambda self, group: False)
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d)
        _, where = await _upload(d, cohort, ROSTER.encode(), send="on")
        await d.post(where, where)
        page = await (await d.client.get(f"/dashboard/cohorts/{cohort}")).text()
        found = re.search(rf'href="(/dashboard/cohorts/{cohort}/file/[^"]+\.csv)"', page)
        assert found, page
        sheet = await d.client.get(found[1])
        assert sheet.status == 200
        text = (await sheet.read()).decode("utf-8-sig")
        assert "kari@example.no" in text and "ola@example.no" in text
        assert (await d.client.get(found[1])).status == 404  # once: it holds live codes


async def test_renaming_a_cohort_renames_its_role_and_an_unchanged_name_changes_nothing() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d, graduates="15.06.2030")
        page = f"/dashboard/cohorts/{cohort}"
        shown = await (await d.client.get(page)).text()
        assert 'name="name" maxlength="100" required value="Fashion 2026"' in shown
        assert 'name="graduates" maxlength="40" value="15 June 2030"' in shown
        form = await d.form(page, f"{page}/edit") | {
            "name": "Fashion 2026",
            "graduates": "15 June 2030",
        }
        same = await d.client.post(f"{page}/edit", data=form, allow_redirects=False)
        assert same.status == 400 and "Say what to change" in await same.text(), await same.text()
        renamed = await d.post(page, f"{page}/edit", name="Mote 2026", graduates="")
        assert renamed.status == 303, await renamed.text()
        async with d.world.uow() as uow:
            now = await uow.cohorts.get(d.world.group.id, cohort)
            roles = [r.name for r in await uow.roles.for_group(d.world.group.id)]
        assert now is not None and now.name == "Mote 2026" and now.graduates_on == date(2030, 6, 15)
        assert "Mote 2026" in roles and "Fashion 2026" not in roles
        held = [r["name"] for r in d.world.ws.state["roles"].values()]
        assert "Mote 2026" in held and "Fashion 2026" not in held
        taken = await _create(d, "Design")
        refused = await d.post(
            f"/dashboard/cohorts/{taken}", f"/dashboard/cohorts/{taken}/edit", name="mote 2026"
        )
        assert refused.status == 400 and "Mote 2026" in await refused.text()


async def test_the_edit_form_shows_the_graduation_date_as_people_write_it() -> None:
    async with dashboard() as d:
        await d.sign_in()
        cohort = await _create(d, graduates="15.06.2030")
        page = f"/dashboard/cohorts/{cohort}"
        shown = await (await d.client.get(page)).text()
        assert 'name="graduates" maxlength="40" value="15 June 2030"' in shown, shown
        assert "2030-06-15" not in shown
        # Saved as shown, the date is no change: only the new name is.
        renamed = await d.post(page, f"{page}/edit", name="Mote 2026", graduates="15 June 2030")
        assert renamed.status == 303, await renamed.text()
        async with d.world.uow() as uow:
            now = await uow.cohorts.get(d.world.group.id, cohort)
        assert now is not None and now.name == "Mote 2026" and now.graduates_on == date(2030, 6, 15)
        same = await d.post(page, f"{page}/edit", name="Mote 2026", graduates="15 June 2030")
        assert same.status == 400 and "Say what to change" in await same.text(), await same.text()
