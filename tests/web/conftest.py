"""Browser tests drive Debian's chromium through Playwright (its own browser download cannot
work here); `make test` installs chromium where it is missing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
INSTALLED = CHROMIUM.exists()  # read once at import: no blocking call inside the loop


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """A headless chromium; the test fails (never skips) when it is not installed."""
    from playwright.async_api import async_playwright

    assert INSTALLED, "install Debian's chromium: apt-get install -y chromium"
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()
