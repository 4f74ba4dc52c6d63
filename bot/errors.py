"""Exceptions that carry a member-facing message key, and infrastructure failures."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Something the member did wrong; the message key is shown in the group's language."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class PermissionDenied(UserError):
    """The member may not run this."""


class StorageUnavailable(Exception):
    """The database cannot be reached; nothing was changed."""


class PlatformError(Exception):
    """The platform refused a call; `missing_permission` names what the bot lacks, if known:
    a key under `permissions.` in the catalogues (shown in the group's language) or the
    platform's own word (a Slack scope); `role` is the role a hierarchy problem concerns;
    `transient` says the platform failed on its side (an HTTP 5xx): the same call may work
    later, so it is retried rather than given up; `users` names the members a call for many
    refused (the others' part took effect); empty means the whole call failed."""

    def __init__(
        self,
        message: str,
        *,
        missing_permission: str | None = None,
        role: str | None = None,
        transient: bool = False,
        users: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.missing_permission = missing_permission
        self.role = role
        self.transient = transient
        self.users = users


class DirectMessagesClosed(PlatformError):
    """The member does not accept direct messages from the bot (Discord 50007: DMs from server
    members turned off, or the bot blocked); what matters must reach them another way."""
