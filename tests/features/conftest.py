"""The `w` fixture: a set-up local group of its own for each service test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.features.helpers import World, world


@pytest.fixture
async def w() -> AsyncIterator[World]:
    """A fresh copy of a group right after `/alumni setup`."""
    async with world() as w:
        yield w
