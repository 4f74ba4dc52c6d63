"""Class lists as schools export them (issue 14, item 4): Excel in Norway writes `;`,
Windows-1252 and a BOM; teachers paste `Name <address>`; bad lines are named by their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cogs.onboarding.codes import parse_roster as reexported
from bot.cogs.onboarding.roster import merge_rosters, parse_roster, sniff_delimiter
from bot.safety import decode_upload
from tests.conftest import LocalGroup

# What "Lagre som > CSV (semikolondelt)" in a Norwegian Excel gives: a BOM, `;`, CRLF,
# a quoted name with a comma in it, an extra column, an empty row and a bad address.
NORWEGIAN_EXCEL = (
    "\ufeffNavn;E-post;Klasse\r\n"
    '"Hansen, Per";per.hansen@student.oslomet.no;MK1\r\n'
    "Åse Ødegård;ASE@student.oslomet.no;MK1\r\n"
    ";;\r\n"
    "Ola Nordmann;ola@student;MK1\r\n"
    "Kari Nordmann;Kari Nordmann <kari@student.oslomet.no>;MK2\r\n"
)


def test_a_norwegian_excel_export_is_read_by_its_columns() -> None:
    valid, invalid = parse_roster(NORWEGIAN_EXCEL)
    assert valid == [
        ("Hansen, Per", "per.hansen@student.oslomet.no"),
        ("Åse Ødegård", "ase@student.oslomet.no"),
        ("Kari Nordmann", "kari@student.oslomet.no"),
    ]
    # The real line in the teacher's file: the header is line 1, the empty row line 4.
    assert invalid == [(5, "Ola Nordmann ola@student")]


def test_windows_1252_and_utf16_exports_decode_and_binary_is_refused() -> None:
    raw = NORWEGIAN_EXCEL.removeprefix("\ufeff").encode("cp1252")
    assert raw.decode("utf-8", errors="replace") != NORWEGIAN_EXCEL.removeprefix("\ufeff")
    valid, _ = parse_roster(decode_upload(raw))
    assert ("Åse Ødegård", "ase@student.oslomet.no") in valid
    # Excel's "Unicode text": UTF-16 with a BOM, tab separated.
    unicode_text = "Navn\tE-post\r\nÅse Ødegård\tase@x.no\r\n".encode("utf-16")
    assert parse_roster(decode_upload(unicode_text))[0] == [("Åse Ødegård", "ase@x.no")]
    assert decode_upload("navn;epost\n".encode("utf-8-sig")) == "navn;epost\n"
    with pytest.raises(UnicodeDecodeError):
        decode_upload(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_english_headers_in_any_order_with_first_and_last_names() -> None:
    text = "Student ID,Last name,First name,Email address\n1,Berg,Nils,nils@example.com\n"
    assert parse_roster(text) == ([("Nils Berg", "nils@example.com")], [])
    text = "email,name\nkari@example.com,Kari\n"
    assert parse_roster(text) == ([("Kari", "kari@example.com")], [])
    # Norwegian first/last name columns, and "epost" without a hyphen.
    text = "Etternavn;Fornavn;epost\nBerg;Nils;nils@example.com\n"
    assert parse_roster(text) == ([("Nils Berg", "nils@example.com")], [])


def test_files_without_a_header_and_addresses_alone() -> None:
    text = "Kari Nordmann,kari@example.com\nola@example.com\nper@example.com anne@example.com\n"
    valid, invalid = parse_roster(text)
    assert valid == [
        ("Kari Nordmann", "kari@example.com"),
        ("", "ola@example.com"),
        ("", "per@example.com"),
        ("", "anne@example.com"),
    ]
    assert invalid == []
    assert parse_roster('Kari <kari@x.no>\n"Hansen, Per" <per@x.no>\n') == (
        [("Kari", "kari@x.no"), ("Hansen, Per", "per@x.no")],
        [],
    )


def test_the_delimiter_is_the_one_that_splits_the_lines() -> None:
    # csv.Sniffer would see the comma in "Hansen, Per" and guess wrong on a short sample.
    lines = ["Hansen, Per;per@x.no", "Kari;kari@x.no"]
    assert sniff_delimiter(lines) == ";"
    assert sniff_delimiter(['"Hansen; Per",per@x.no', "Kari,kari@x.no"]) == ","
    assert parse_roster("\n".join(lines))[0] == [("Hansen, Per", "per@x.no"), ("Kari", "kari@x.no")]


def test_invalid_addresses_are_checked_by_email_validator_without_the_network() -> None:
    text = "navn;epost\nA;a@@x.no\nB;b@x\nC;c@localhost\nD;d @x.no\nE;e@x.no\n"
    valid, invalid = parse_roster(text)
    assert valid == [("E", "e@x.no")]
    assert [n for n, _ in invalid] == [2, 3, 4, 5]


def test_typed_lists_and_duplicates() -> None:
    valid, invalid = parse_roster(
        "Kari Nordmann,kari@example.com; ola@example.com; OLA@example.com"
    )
    assert valid == [("Kari Nordmann", "kari@example.com"), ("", "ola@example.com")]
    assert invalid == []
    both = merge_rosters("navn;e-post\nKari;kari@example.com\n", "kari@example.com; nils@x.no")
    assert both == ([("Kari", "kari@example.com"), ("", "nils@x.no")], [])
    assert reexported is parse_roster  # the old import path still works


async def test_a_norwegian_teacher_imports_an_excel_file_on_the_terminal(
    group: LocalGroup, tmp_path: Path
) -> None:
    roster = tmp_path / "Klasseliste MK1.csv"
    roster.write_bytes(NORWEGIAN_EXCEL.removeprefix("\ufeff").encode("cp1252"))
    out = await group.run(
        "/alumni setup",
        "/alumni settings language:nb",
        "/alumni cohort create program:Mote year:2026",
        f'/alumni invite cohort:"Mote 2026" roster:"file:{roster}"',
    )
    assert "Linje 5: «Ola Nordmann ola@student» er ikke en gyldig e-postadresse" in out
    out = await group.run("!join aase ase@student.oslomet.no", "!show roles aase")
    assert "aase: Mote 2026, student" in out
