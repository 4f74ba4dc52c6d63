"""Join codes and rosters: constants, code generation, parsing a class list."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from bot.safety import clip

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud
CODE_LENGTH = 8
CODE_DAYS = 30
COHORT_CODE_USES = 250
FRIEND_CODE_USES = 5
LOCK_ATTEMPTS = 5
LOCK_WINDOW = timedelta(minutes=10)
# A code's granting cut off (the process died mid-call) may be finished after this long.
GRANTING_STALE = timedelta(minutes=10)
QUEUE_MAX_ATTEMPTS = 3  # drains (hourly) before a change the platform refuses is given up
# A missing permission (an admin can give it back) or a platform failing on its side (HTTP 5xx)
# is no refusal of the change itself: the queue keeps trying for this long.
RETRY_FOR = timedelta(days=30)
RETRY_AFTER = timedelta(minutes=30)  # the next hourly run tries a refused row again
BACKOFF_CAP = timedelta(hours=24)  # temporary errors: 30 min, 1 h, 2 h, ... at most a day
GRANT_PAGE = 100  # rows a drain claims at a time (a Slack batch: one invite per channel)
PROGRESS_EVERY = 25
CLAIMABLE = ("student", "alumni", "staff", "industry")
_EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"'.]{2,}$")
_CUSTOM_CODE = re.compile(r"^[A-Z0-9]{6,32}$")
_SPLIT_LINES = re.compile(r"[\n;]+")


def new_code() -> str:
    """A random, unambiguous join code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def parse_roster(text: str) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """(name, email) pairs and (line number, text) of lines that are not valid.

    Lines are separated by newlines or semicolons; a line is `name,email`, `email,name`, or one
    or more emails separated by commas or spaces (then each email counts as its own line).
    """
    valid: list[tuple[str, str]] = []
    invalid: list[tuple[int, str]] = []
    seen: set[str] = set()
    n = 0
    for raw_line in _SPLIT_LINES.split(text):
        line = raw_line.strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(",")]
        with_at = [f for f in fields if "@" in f]
        if n == 0 and not with_at and "email" in line.lower():
            continue  # a CSV header
        if len(fields) == 2 and len(with_at) == 1:
            items = [(next(f for f in fields if "@" not in f), with_at[0])]
        else:
            items = [("", word) for word in re.split(r"[,\s]+", line) if word]
        for name, email in items:
            n += 1
            if not _EMAIL.match(email):
                invalid.append((n, clip(name + " " + email if name else email, 80)))
                continue
            if email.lower() not in seen:
                seen.add(email.lower())
                valid.append((clip(name, 100), email.lower()))
    return valid, invalid
