"""The dashboard in a real browser (Debian's chromium through Playwright) against the real
`alumnibot run` on the local workspace: signing in from the link the terminal printed, the
forms a teacher uses, the keyboard, labels, and the browser's console."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.local_bot import LocalBot

pytestmark = pytest.mark.asyncio
PAGES = (
    "/dashboard/",
    "/dashboard/approvals",
    "/dashboard/cohorts",
    "/dashboard/questions",
    "/dashboard/members",
    "/dashboard/codes",
    "/dashboard/numbers",
    "/dashboard/audit",
)
SHOTS = Path(__file__).parents[2] / "docs" / "images"


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalBot]:
    """A set-up local group whose owner (an admin) runs the terminal."""
    bot = await LocalBot.start(tmp_path)
    try:
        await bot.expect(r"^Dashboard: http://127\.0\.0\.1:\d+/dashboard/")
        await bot.type("/alumni setup")
        await bot.expect("Setup finished")
        yield bot
    finally:
        await bot.stop()


class Watched:
    """A page whose console errors, uncaught errors and failed loads are collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "response",
            lambda r: (
                r.status >= 400
                and r.request.resource_type != "document"
                and self.errors.append(f"{r.status} {r.url}")
            ),
        )


async def _signed_in(browser: Any, link: str) -> Watched:
    context = await browser.new_context()
    watched = Watched(await context.new_page())
    await watched.page.goto(link)
    await watched.page.get_by_role("button", name=re.compile("Sign in|Logg inn")).click()
    await watched.page.wait_for_url("**/dashboard/")
    return watched


async def _inputs_by_label(page: Any) -> list[str]:
    """Every visible form control found by its label's text (as a screen reader names it)."""
    controls = await page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden')
            .map(e => ({id: e.id, labels: [...(e.labels || [])].map(l => l.textContent.trim())}))"""
    )
    found = []
    for control in controls:
        assert control["labels"], f"an input without a label: {control['id']!r}"
        located = page.get_by_label(control["labels"][0], exact=True)
        assert await located.get_attribute("id") == control["id"]
        found.append(control["labels"][0])
    return found


async def test_sign_in_from_the_terminals_link_once_and_every_page_is_clean(
    local: LocalBot, browser: Any
) -> None:
    link = await local.link()
    watched = await _signed_in(browser, link)
    page = watched.page
    assert await page.get_by_role("heading", name="Overview").is_visible()
    labels: list[str] = []
    for path in PAGES:
        await (
            page.get_by_role("navigation").get_by_role("link", name=_NAV[path], exact=True).click()
        )
        await page.wait_for_load_state("load")
        assert page.url.endswith(path)
        labels += await _inputs_by_label(page)
    assert {"Question in English", "Question in Norwegian (optional)", "Day", "Weeks"} <= set(
        labels
    )
    assert watched.errors == []
    # The link is spent: another browser opening it is refused and gets no session.
    other = await browser.new_context()
    second = await other.new_page()
    await second.goto(link)
    await second.get_by_role("button", name="Sign in").click()
    assert await second.get_by_text("has been used already").is_visible()
    await second.goto(link.split("/signin/")[0] + "/")
    assert await second.get_by_text("You are not signed in").is_visible()


_NAV = {
    "/dashboard/": "Overview",
    "/dashboard/approvals": "Approvals",
    "/dashboard/cohorts": "Cohorts",
    "/dashboard/questions": "Weekly questions",
    "/dashboard/members": "Members",
    "/dashboard/codes": "Join codes",
    "/dashboard/numbers": "Numbers",
    "/dashboard/audit": "Changes",
}


async def test_add_a_question_in_both_languages_and_schedule_it(
    local: LocalBot, browser: Any
) -> None:
    page = (await _signed_in(browser, await local.link())).page
    await (
        page.get_by_role("navigation")
        .get_by_role("link", name="Weekly questions", exact=True)
        .click()
    )
    await page.get_by_label("Question in English").fill(
        "Which tool in the workshop do you miss most?"
    )
    await page.get_by_label("Question in Norwegian (optional)").fill(
        "Hvilket verktøy i verkstedet savner du mest?"
    )
    await page.get_by_label("Theme", exact=True).select_option("making")
    await page.get_by_role("button", name="Add to the queue").click()
    assert await page.get_by_role("status").inner_text() == "The question is in the queue."
    queue = page.locator("section[aria-labelledby=queue] li").first
    assert "Which tool in the workshop do you miss most?" in await queue.inner_text()
    # Wednesday 18:30: the slot is saved and shown as the next question's time.
    await page.get_by_label("Day", exact=True).select_option(label="Wednesday")
    await page.get_by_label("Time", exact=True).fill("18:30")
    await page.get_by_role("button", name="Save the schedule").click()
    assert await page.get_by_role("status").inner_text() == "The schedule is saved."
    shown = await page.locator("main").inner_text()
    assert re.search(r"Next question: Wednesday, .* at 18:30", shown), shown
    # When the slot comes, the staff's question goes first, in the group's #discussion.
    await local.type("!clock +3d")
    await local.type("!show #discussion 1")
    await local.expect("Which tool in the workshop do you miss most")
    # Three days on, the 12-hour session has ended: a new link signs in again.
    page = (await _signed_in(browser, await local.link())).page
    shown = await page.locator("main").inner_text()
    assert "Which tool in the workshop do you miss most?" in shown, shown
    await page.get_by_role("navigation").get_by_role("link", name="Changes", exact=True).click()
    audit = await page.locator("table").inner_text()
    assert "Added a question" in audit and "Changed the schedule" in audit and "owner" in audit


async def test_keyboard_only_tab_to_a_suggestion_and_accept_it(
    local: LocalBot, browser: Any
) -> None:
    await local.type("!join ingrid")
    await local.type("!as ingrid")
    await local.type('/alumni prompt suggest text:"What would you teach first-years?"')
    await local.expect("ingrid sees")
    await local.type("!as owner")
    page = (await _signed_in(browser, await local.link())).page
    await page.goto(page.url + "questions")
    target = "Accept: What would you teach first-years?"
    for _ in range(60):
        await page.keyboard.press("Tab")
        name = await page.evaluate("document.activeElement.getAttribute('aria-label')")
        if name == target:
            break
    else:
        raise AssertionError("the Accept button cannot be reached with Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_load_state("load")
    assert "its author has been told" in await page.get_by_role("status").inner_text()
    # The member hears it as the review buttons would have told them.
    await local.expect(r"\[direct message to ingrid\].*")


async def test_revoked_staff_are_signed_out_at_their_next_click(
    local: LocalBot, browser: Any
) -> None:
    await local.type("!join kari")
    await local.type("/alumni role grant member:kari role:staff")
    await local.expect("kari")
    await local.type("!as kari")
    page = (await _signed_in(browser, await local.link())).page
    await local.type("!as owner")
    await local.type("/alumni role revoke member:kari role:staff")
    await local.expect("kari")
    await page.get_by_role("navigation").get_by_role("link", name="Numbers", exact=True).click()
    assert await page.get_by_text("You have been signed out: you are no longer staff").is_visible()
    assert (
        await page.get_by_role("navigation").get_by_role("link", name="Numbers", exact=True).count()
        == 0
    )


async def test_a_post_without_its_csrf_token_is_refused(local: LocalBot, browser: Any) -> None:
    page = (await _signed_in(browser, await local.link())).page
    await page.goto(page.url + "questions")
    await page.evaluate(
        "document.querySelector('form[action$=\"/questions/pause\"] input[name=csrf]').remove()"
    )
    await page.get_by_role("button", name="Pause the weekly question").click()
    assert await page.get_by_text("did not come from your dashboard page").is_visible()
    await page.goto(page.url.split("/dashboard/")[0] + "/dashboard/questions")
    assert await page.get_by_text("The weekly question is paused.").count() == 0


async def test_screenshots_of_every_page_in_both_languages(
    local: LocalBot, browser: Any, tmp_path: Path
) -> None:
    """Each page as a teacher sees it on a laptop (and the overview on a phone); with
    ALUMNIBOT_SCREENSHOTS=docs they replace the ones in docs/images."""
    await local.type('/alumni cohort create program:"Fashion and Production" year:2026')
    await local.type('/alumni invite cohort:"Fashion and Production 2026"')
    await local.expect("Join code")
    await local.type("!join ingrid")
    await local.type("!as ingrid")
    await local.type('/alumni prompt suggest text:"What would you teach first-years?"')
    await local.type("hello everyone, first week back")
    await local.type("!press I am a student")
    await local.type('!form cohort="Fashion and Production 2026"')
    await local.type("!join Ola")
    await local.type("!as ola")
    await local.type("!press I am alumni")
    await local.type("!form cohort=")
    await local.type("!as owner")
    await local.type("/alumni prompt now")
    await local.expect("owner sees")
    # A cohort, so the Cohorts page shows its table.
    await local.type('/alumni cohort create program:"Fashion and Production" year:2026')
    await local.expect("Fashion and Production 2026")
    out = tmp_path / "shots"
    out.mkdir()
    for lang in ("en", "nb"):
        await local.type(f"/alumni settings language:{lang}")
        # The answer is labelled in the new language: "[bare owner ser]" in Norwegian.
        await local.expect("owner se")
        context = await browser.new_context(viewport={"width": 1100, "height": 900})
        watched = Watched(await context.new_page())
        page = watched.page
        await page.goto(await local.link())
        await page.get_by_role("button").click()
        await page.wait_for_url("**/dashboard/")
        # One change, so the audit page shows what it records.
        await page.goto(page.url + "questions")
        await page.locator('form[action$="/questions/schedule"] button').click()
        for path in PAGES:
            await page.goto(page.url.split("/dashboard/")[0] + path)
            await page.wait_for_load_state("networkidle")
            name = path.strip("/").split("/")[-1]
            name = "overview" if name == "dashboard" else name
            await page.screenshot(path=str(out / f"dashboard-{name}-{lang}.png"), full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(page.url.split("/dashboard/")[0] + "/dashboard/")
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=str(out / f"dashboard-phone-{lang}.png"))
        assert watched.errors == []
        await context.close()
    shots = sorted(out.glob("*.png"))
    assert len(shots) == 18 and all(p.stat().st_size > 10_000 for p in shots)
    if os.environ.get("ALUMNIBOT_SCREENSHOTS") == "docs":
        SHOTS.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, SHOTS / shot.name)


async def test_keyboard_only_tab_to_a_request_approve_it_and_the_member_gets_the_role(
    local: LocalBot, browser: Any
) -> None:
    await local.type("!join ingrid")
    await local.type("!as ingrid")
    await local.type("!press I am a student")
    await local.type("!form cohort=")
    await local.expect("ingrid asks for the role student")
    await local.type("!as owner")
    page = (await _signed_in(browser, await local.link())).page
    assert "1 role request is waiting" in await page.locator("main").inner_text()
    await page.goto(page.url + "approvals")
    for _ in range(60):
        await page.keyboard.press("Tab")
        name = await page.evaluate("document.activeElement.getAttribute('aria-label')")
        if name == "Approve ingrid":
            break
    else:
        raise AssertionError("the Approve button cannot be reached with Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_load_state("load")
    assert "approved" in (await page.get_by_role("status").inner_text()).lower()
    assert await page.get_by_text("No role requests are waiting.").is_visible()
    # In the workspace: ingrid has the role, and was told as the buttons tell.
    await local.expect(r"\[direct message to ingrid\]")
    await local.type("!show roles ingrid")
    await local.expect(r"ingrid: .*student")
