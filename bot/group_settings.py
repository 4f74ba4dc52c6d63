"""Typed per-group settings: each feature declares a pydantic model stored under its namespace.

A feature reads its settings with `PostsSettings.of(group)` and writes them with
`uow.groups.set_settings(group.id, settings)`, which replaces only that feature's namespace,
so two staff members changing two features' settings at once never undo each other.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain import Group

log = logging.getLogger(__name__)

PROGRAMME_MAX = 100


class FeatureSettings(BaseModel):
    """Base of a feature's settings; `namespace` is the key in the group's settings."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    namespace: ClassVar[str]

    @classmethod
    def of(cls, group: Group) -> Self:
        """The group's settings of this feature; defaults where nothing (valid) is stored."""
        raw = group.settings.get(cls.namespace) or {}
        try:
            return cls.model_validate(raw)
        except ValidationError:
            # A value written by an older version or by hand: the feature keeps working.
            log.warning("invalid %s settings in %s; using defaults", cls.namespace, group.id)
            return cls()

    def stored(self) -> dict[str, Any]:
        """The JSON kept in the group's settings."""
        return self.model_dump(mode="json")


class GroupProfile(FeatureSettings):
    """What the group is about, in its own words: the programme its invitations name
    ("the alumni group for Textile Design"); empty until staff set it."""

    namespace = "group"
    programme: str = Field(default="", max_length=PROGRAMME_MAX)
