"""The Members and Codes pages and the queue's order in a real browser, against the real
`alumnibot run` on the local workspace: what staff do in the page is what members meet in
the workspace."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.local_bot import LocalBot
from tests.web.test_browser import _inputs_by_label, _signed_in, local

pytestmark = pytest.mark.asyncio
__all__ = ["local"]  # the fixture, shared with test_browser.py

COHORT = "/alumni cohort create program:Fashion year:2026 graduates:2029-06-15"


async def _open(page: Any, name: str) -> None:
    """Follow a link of the dashboard's navigation and wait for its page."""
    link = page.get_by_role("navigation").get_by_role("link", name=name, exact=True)
    href = await link.get_attribute("href")
    await link.click()
    await page.wait_for_url(f"**{href}")


async def test_a_code_revoked_in_the_browser_is_refused_in_the_workspace(
    local: LocalBot, browser: Any
) -> None:
    await local.type(COHORT)
    await local.expect("owner sees")
    await local.type('/alumni invite cohort:"Fashion 2026"')
    code = (await local.expect(r"Join code: `([A-Z0-9]{8})`"))[1]
    watched = await _signed_in(browser, await local.link())
    page = watched.page
    await _open(page, "Join codes")
    row = page.get_by_role("row").filter(has_text=code)
    assert "Fashion 2026" in await row.inner_text()
    assert "250 of 250" in await row.inner_text()
    assert await _inputs_by_label(page) == []  # only buttons, each named by its code
    await page.get_by_role("button", name=f"End the code {code}").click()
    assert code in await page.get_by_role("status").inner_text()
    assert await page.get_by_role("row").filter(has_text=code).count() == 0
    # A newcomer typing the code now hears it was withdrawn, and gets no role.
    await local.type("!join ola")
    await local.type("!as ola")
    await local.type(f"/alumni join code:{code}")
    await local.expect("That code has been withdrawn")
    await local.type("!show roles ola")
    shown = (await local.expect(r"ola: .*"))[0]
    assert "student" not in shown and "Fashion 2026" not in shown
    await local.type("!as owner")
    await _open(page, "Changes")
    assert "Ended a join code" in await page.locator("table").inner_text()
    assert watched.errors == []


async def test_a_role_given_in_the_browser_is_held_in_the_workspace_and_in_the_history(
    local: LocalBot, browser: Any
) -> None:
    await local.type(COHORT)
    await local.expect("owner sees")
    await local.type("!join ingrid")
    await local.type("!join kari")
    await local.type('/alumni role grant member:kari role:"Fashion 2026"')
    await local.expect("kari now has the role Fashion 2026")
    watched = await _signed_in(browser, await local.link())
    page = watched.page
    await _open(page, "Members")
    labels = await _inputs_by_label(page)
    assert labels == ["Name", "Role", "Cohort"]
    # By cohort: only kari holds its role.
    await page.get_by_label("Cohort", exact=True).select_option(label="Fashion 2026")
    await page.get_by_role("button", name="Search").click()
    assert await page.get_by_role("status").inner_text() == "1 member found."
    assert await page.get_by_role("link", name="kari").is_visible()
    assert await page.get_by_role("link", name="ingrid").count() == 0
    # By name, then to ingrid's page, and give her the alumni role.
    await page.get_by_label("Cohort", exact=True).select_option(label="Any cohort")
    await page.get_by_label("Name", exact=True).fill("ingr")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name="ingrid").click()
    assert await page.get_by_role("heading", name="ingrid").is_visible()
    assert await _inputs_by_label(page) == ["Role to give"]
    await page.get_by_label("Role to give").select_option(label="alumni")
    await page.get_by_role("button", name="Give the role").click()
    assert await page.get_by_role("status").inner_text() == "ingrid now has the role alumni."
    history = await page.locator("section[aria-labelledby=history]").inner_text()
    assert re.search(r"alumni given \(given by staff\) by owner", history), history
    await local.type("!show roles ingrid")
    await local.expect(r"ingrid: .*alumni")
    # Taken away again: gone in the workspace, and both steps stay in the history.
    await page.get_by_label("Role to take away").select_option(label="alumni")
    await page.get_by_role("button", name="Take the role away").click()
    assert "no longer has the role alumni" in await page.get_by_role("status").inner_text()
    history = await page.locator("section[aria-labelledby=history] li").all_inner_texts()
    assert "taken away" in history[0] and "given" in history[1]
    await local.type("/alumni whois member:ingrid")
    whois = (await local.expect(r"Roles: .*"))[0]
    assert "alumni" not in whois
    assert watched.errors == []


async def test_moving_a_question_down_changes_the_queue_with_the_keyboard(
    local: LocalBot, browser: Any
) -> None:
    watched = await _signed_in(browser, await local.link())
    page = watched.page
    await _open(page, "Weekly questions")
    items = page.locator("section[aria-labelledby=queue] li > p:first-child")
    before = await items.all_inner_texts()
    assert len(before) >= 2
    # The first has no "Move up"; its "Move down" is reached with Tab and pressed with Enter.
    assert await page.get_by_role("button", name=f"Move up: {before[0][:60]}").count() == 0
    target = f"Move down: {before[0][:60]}"
    for _ in range(80):
        await page.keyboard.press("Tab")
        name = await page.evaluate("document.activeElement.getAttribute('aria-label')")
        if name == target:
            break
    else:
        raise AssertionError("the Move down button cannot be reached with Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_load_state("load")
    assert await page.get_by_role("status").inner_text() == "The question is moved."
    after = await items.all_inner_texts()
    assert after[:2] == [before[1], before[0]] and after[2:] == before[2:]
    # Up again puts it back.
    await page.get_by_role("button", name=f"Move up: {before[0][:60]}").click()
    assert await items.all_inner_texts() == before
    assert watched.errors == []
