"""Picker texts for the commands a test declares: real commands have theirs in the catalogues."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands import command_key
from bot.domain import Language
from bot.i18n import catalogue


def declare_texts(namespace: str, path: str, options: Sequence[str] = ()) -> None:
    """Give a test's command (and its group) the one-line texts Discord requires of it."""
    words = tuple(path.split())
    keys = [f"{command_key(namespace, words)}.description"]
    if len(words) == 2:
        keys.append(f"{command_key(namespace, words[:1])}.description")
    keys += [f"{command_key(namespace, words)}.options.{o}" for o in options]
    for language in Language:
        for key in keys:
            catalogue(language).setdefault(key, f"Test: {key.rsplit('.', 2)[-2]}")
