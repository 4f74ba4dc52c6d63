"""Files the bot writes in its data folder, and export files' life: written private, deleted once
delivered, swept after a day and on erasure. Blocking: the service runs these in a thread."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from bot.safety import slug

log = logging.getLogger(__name__)

# Export files are personal data too: they live in the bot's own data folder (never a shared
# temporary folder), readable by the bot's user only, and are deleted once delivered. One
# left behind by a crash is swept after a day, and on erasure.
EXPORT_FOLDER = "exports"
EXPORT_PREFIX = "alumnibot-data-"
EXPORT_MAX_AGE_SECONDS = 24 * 3600

# Files the bot writes in its data folder (DATA_DIR), and what happens to each; a kind of
# file without an entry fails tests/security/test_privacy_rules.py. The local workspace lists
# its own in adapters/local/workspace.py.
DATA_FILES = {
    f"{EXPORT_FOLDER}/{EXPORT_PREFIX}*.json": (
        "a member's export: written for their DM (mode 0600), deleted once delivered, at the "
        "latest after a day, and on their erasure"
    ),
    "alumnibot.db*": (
        "the SQLite database (and its WAL files): every table has a rule in "
        "storage/repositories/privacy.py"
    ),
    "alumnibot.log": (
        "the local terminal's log: platform ids and command names for troubleshooting, never "
        "message text or tokens; delete it with the rest of the folder"
    ),
}


def export_name(user_id: str, stamp: str, tail: str) -> str:
    """The file name of a member's export (the member's id first, so erasure finds it)."""
    return f"{EXPORT_PREFIX}{slug(user_id) or 'member'}-{stamp}-{tail}.json"


def export_folder(data_dir: Path) -> Path:
    """The exports folder, made private (0700) if it is not already."""
    folder = data_dir / EXPORT_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode passes through the umask, and the folder may be older than this code.
    os.chmod(folder, 0o700)
    return folder


def write_export(path: Path, document: dict[str, Any]) -> None:
    """Write the document readable by the bot's user only (0600), never over another file."""
    # O_EXCL | O_NOFOLLOW: never write through a file or link someone else put there.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=1, default=str)


def unlink(path: Path) -> None:
    """Delete an export file; a failure is logged (the sweep retries)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.warning("could not delete export %s", path.name)


def sweep(folder: Path, max_age_seconds: float) -> int:
    """Delete export files older than the limit; how many went."""
    if not folder.is_dir():
        return 0
    now = time.time()
    removed = 0
    for old in folder.glob(f"{EXPORT_PREFIX}*.json"):
        try:
            if now - old.stat().st_mtime > max_age_seconds:
                old.unlink()
                removed += 1
        except OSError:
            log.warning("could not sweep old export %s", old.name)
    return removed


def remove_exports_of(folder: Path, group_id: str, user_id: str) -> int:
    """Delete the member's export files still on disk; how many went."""
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.glob(f"{EXPORT_PREFIX}{slug(user_id) or 'member'}-*.json"):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            theirs = document.get("group") == group_id and document.get("user_id") == user_id
        except (OSError, ValueError, AttributeError):
            theirs = True  # a file cut short by a crash: its name is all there is to go by
        if theirs:
            unlink(path)
            removed += 1
    return removed
