"""Join codes and rosters: constants, code generation; a class list is read in roster.py."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from bot.cogs.onboarding.roster import merge_rosters, parse_roster

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
_CUSTOM_CODE = re.compile(r"^[A-Z0-9]{6,32}$")


def new_code() -> str:
    """A random, unambiguous join code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


__all__ = ["merge_rosters", "parse_roster"]
