"""The Cohorts page in a real browser against the real `alumnibot run`: a teacher creates a
cohort, uploads the class list with one bad line, checks the preview, imports it, and sees
the status; every input is found by its label and the console stays clean."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.local_bot import LocalBot
from tests.web.test_browser import _inputs_by_label, _signed_in, local  # noqa: F401

pytestmark = pytest.mark.asyncio

CLASS_LIST = (
    "Navn;E-post\n"
    "Kari Nordmann;kari@example.no\n"
    "Per Hansen;per(at)example.no\n"
    "Ola Dunk;ola@example.no\n"
).encode("cp1252")


async def test_create_a_cohort_upload_its_roster_check_the_preview_and_import(
    local: LocalBot,  # noqa: F811
    browser: Any,
) -> None:
    watched = await _signed_in(browser, await local.link())
    page = watched.page
    await page.get_by_role("navigation").get_by_role("link", name="Cohorts", exact=True).click()
    await page.wait_for_url("**/dashboard/cohorts")
    labels = await _inputs_by_label(page)
    assert {"Programme", "Year", "Graduation date (optional)"} <= set(labels)
    await page.get_by_label("Programme", exact=True).fill("Fashion and Production")
    await page.get_by_label("Year", exact=True).fill("2026")
    await page.get_by_label("Graduation date (optional)", exact=True).fill("15. juni 2030")
    await page.get_by_role("button", name="Create the cohort").click()
    await page.wait_for_url(re.compile(r".*/dashboard/cohorts/\d+$"))
    assert await page.get_by_role("status").inner_text() == "The cohort and its role are created."
    assert await page.get_by_role("heading", name="Fashion and Production 2026").is_visible()
    assert await page.get_by_text("Graduates 15 Jun 2030.").is_visible()
    labels = await _inputs_by_label(page)
    assert {"Roster file (CSV)", "Email each new address its invitation"} <= set(labels)

    await page.get_by_label("Roster file (CSV)", exact=True).set_input_files(
        {"name": "klasse.csv", "mimeType": "text/csv", "buffer": CLASS_LIST}
    )
    await page.get_by_role("button", name="Show what will be imported").click()
    await page.wait_for_url(re.compile(r".*/roster/[0-9a-f]{32}$"))
    assert await page.get_by_role("heading", name="2 addresses will be imported").is_visible()
    assert await page.get_by_role("heading", name="1 line is refused").is_visible()
    refused = page.locator("table#refused tbody tr")
    assert await refused.count() == 1
    cells = await refused.first.locator("td").all_inner_texts()
    assert cells == ["3", "Per Hansen per(at)example.no", "no valid email address"]
    good = await page.locator("table#will-import tbody").inner_text()
    assert "Kari Nordmann" in good and "ola@example.no" in good

    await page.get_by_role("button", name="Import 2 addresses").click()
    await page.wait_for_url(re.compile(r".*/dashboard/cohorts/\d+$"))
    said = await page.get_by_role("status").inner_text()
    assert "2 valid addresses, 2 new" in said and "Line 3" in said, said
    roster = page.locator("table#roster tbody tr")
    assert await roster.count() == 2
    shown = await page.locator("table#roster").inner_text()
    assert "kari@example.no" in shown and "ola@example.no" in shown and "per(at)" not in shown
    figures = await page.locator("dl.figures").inner_text()
    assert re.search(r"Invited \(on the roster\)\s+2", figures), figures
    assert re.search(r"Not joined yet\s+2", figures), figures
    # On a phone the page fits its width (the wide tables scroll inside their own box).
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.reload()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    assert watched.errors == []
    # The bot holds the roster as the command would have: the terminal's status says so.
    await local.type('/alumni cohort status cohort:"Fashion and Production 2026"')
    await local.expect("kari@example.no")
