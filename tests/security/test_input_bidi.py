"""Member text cannot reorder what others read (Trojan Source, CVE-2021-42574): the bidi
override and isolate characters are taken out of names, posts and cohort names."""

from __future__ import annotations

from bot.cogs.onboarding.cohorts import CohortService
from bot.safety import neutralise
from tests.features.helpers import STAFF, world


def test_bidi_controls_are_taken_out_of_member_text() -> None:
    # Shown as "Kari cod.exe" reversed: "Kari exe.doc" to a reader, a file that is not one.
    assert neutralise("Kari \u202ecod.exe") == "Kari cod.exe"
    assert neutralise("a\u2066b\u2069c\u202ad\u202be\u202cf\u202dg") == "abcdefg"
    assert neutralise("Åse Ødegård, 2026") == "Åse Ødegård, 2026"


async def test_a_cohort_renamed_with_an_override_is_stored_without_it() -> None:
    async with world() as w:
        svc = w.bot.service(CohortService)
        made = await svc.create(w.group, STAFF, "Fashion", 2026, None)
        renamed = await svc.edit(w.group, made.cohort.name, name="Mote \u202e6202")
        assert renamed.name == "Mote 6202"
