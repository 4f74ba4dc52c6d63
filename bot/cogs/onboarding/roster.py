"""Reading a class list as schools export it: CSV with `,`, `;` or tabs, English or Norwegian
headers, quoted names, `Name <address>` cells, or typed addresses separated by `;`.

Pure functions: text in, (name, email) pairs and the lines that could not be read out.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence

from bot.safety import clip, email_address

# Header cells, compared lower case without spaces, hyphens, underscores or dots.
EMAIL_HEADERS = frozenset(
    {"email", "mail", "emailaddress", "epost", "epostadresse", "mailadresse", "emailadresse"}
)
NAME_HEADERS = frozenset({"name", "navn", "fullname", "fulltnavn", "studentname", "student"})
FIRST_HEADERS = frozenset({"firstname", "givenname", "fornavn"})
LAST_HEADERS = frozenset({"lastname", "surname", "familyname", "etternavn"})
DELIMITERS = (",", ";", "\t")
SAMPLE_LINES = 20
NAME_MAX = 100
SHOWN_MAX = 80
_HEADER_NOISE = re.compile(r"[\s\-_.]+")
_WORDS = re.compile(r"[,;\s]+")
# `Kari Nordmann <kari@x.no>`, as mail programs copy an address (the name may hold commas).
_NAMED = re.compile(r"^(.*?)\s*<([^<>\s]+)>$")

Roster = tuple[list[tuple[str, str]], list[tuple[int, str]]]


def check_address(text: str) -> str | None:
    """The address lower-cased if its syntax is valid (no DNS look-up), else None."""
    return email_address(text)


def _cells_of(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The delimiter that splits the most of the first lines (a tie goes to the comma).

    csv.Sniffer guesses from character frequencies and takes a name like "Hansen, Per" in a
    `;` file for a comma file; counting the lines each delimiter splits (quotes respected)
    does not.
    """
    sample = [line for line in lines if line.strip()][:SAMPLE_LINES]
    best, score = ",", -1
    for delimiter in DELIMITERS:
        split = sum(len(_cells_of(line, delimiter)) > 1 for line in sample)
        if split > score:
            best, score = delimiter, split
    return best


def _header_key(cell: str) -> str:
    return _HEADER_NOISE.sub("", cell.strip().lower())


def _column(keys: list[str], names: frozenset[str]) -> int | None:
    return next((i for i, k in enumerate(keys) if k in names), None)


def _cell(row: Sequence[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _address(cell: str) -> tuple[str, str]:
    """(display name, address) of a cell: `Kari <kari@x.no>` or a plain address."""
    found = _NAMED.match(cell.strip())
    if found is None:
        return "", cell.strip()
    return found.group(1).strip().strip('"').strip(), found.group(2)


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """(line number, cells) of every non-empty record, numbered as the teacher's file is."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    if len([line for line in lines if line.strip()]) <= 1 and ";" in text:
        # Typed on one line (`emails:` of a slash command): entries separated by `;`.
        for n, piece in enumerate(p for p in text.replace("\n", ";").split(";") if p.strip()):
            yield n + 1, _cells_of(piece.strip(), ",")
        return
    reader = csv.reader(lines, delimiter=sniff_delimiter(lines))
    for row in reader:
        if any(cell.strip() for cell in row):
            yield reader.line_num, row


def parse_roster(text: str) -> Roster:
    """(name, email) pairs, first occurrence of an address only, and (line number, text) of
    each line that holds no valid address.

    With a header row (name/navn, email/e-post/epost, or fornavn + etternavn) those columns
    are read and the others ignored; without one, a line is `name,email`, `email,name`,
    `Name <email>`, or addresses separated by commas or spaces (each then counts as its own).
    """
    valid: list[tuple[str, str]] = []
    invalid: list[tuple[int, str]] = []
    seen: set[str] = set()
    columns: tuple[int, int | None, int | None, int | None] | None = None
    first = True
    for n, row in _records(text):
        cells = [c.strip() for c in row]
        if first and not any("@" in c for c in cells):
            first = False
            keys = [_header_key(c) for c in cells]
            email_col = _column(keys, EMAIL_HEADERS)
            if email_col is not None:
                columns = (
                    email_col,
                    _column(keys, NAME_HEADERS),
                    _column(keys, FIRST_HEADERS),
                    _column(keys, LAST_HEADERS),
                )
            continue  # a header row, known or not: it holds no address
        first = False
        items: list[tuple[str, str]]
        # A row whose address is outside the email column (typed lists mix forms) is read
        # as if there were no header.
        if columns is not None and not any(
            "@" in c for i, c in enumerate(cells) if i != columns[0]
        ):
            email_col, name_col, first_col, last_col = columns
            shown, address = _address(_cell(cells, email_col))
            name = _cell(cells, name_col) or " ".join(
                p for p in (_cell(cells, first_col), _cell(cells, last_col)) if p
            )
            items = [(name or shown, address)]
        else:
            with_at = [c for c in cells if "@" in c]
            others = [c for c in cells if c and "@" not in c]
            if len(with_at) == 1 and (others or "<" in with_at[0]):
                shown, address = _address(with_at[0])
                items = [(others[0] if others else shown, address)]
            else:
                items = [("", word) for c in cells for word in _WORDS.split(c) if word]
        for name, address in items:
            email = check_address(address)
            if email is None:
                shown_text = f"{name} {address}".strip() if name else address
                invalid.append((n, clip(shown_text or " ".join(cells), SHOWN_MAX)))
                continue
            if email not in seen:
                seen.add(email)
                valid.append((clip(" ".join(name.split()), NAME_MAX), email))
    return valid, invalid


def merge_rosters(*texts: str) -> Roster:
    """Several rosters (a file and typed addresses) as one: an address once, lines as given."""
    valid: list[tuple[str, str]] = []
    invalid: list[tuple[int, str]] = []
    seen: set[str] = set()
    for text in texts:
        if not text:
            continue
        found, bad = parse_roster(text)
        valid += [(name, email) for name, email in found if email not in seen]
        seen.update(email for _, email in found)
        invalid += bad
    return valid, invalid
