"""Plurals by CLDR rules: a count's noun takes its form from `.one`/`.other`, never "(s)"."""

from __future__ import annotations

import re

import pytest

from bot.domain import Language
from bot.i18n import PLURAL_FORMS, catalogue, t

# "member(s)", "medlem(mer)", "uke(r)", "forespørsel(er)": a plural written for the reader to pick.
_PICK_YOURSELF = re.compile(r"\w\((?:s|es|er|mer|e|r|ne|ene)\)", re.IGNORECASE)
# `{count}` followed by a word that changes with the number ("{count} members") needs both forms;
# these words do not change ("and {count} more", "{count} from staff", "{count} av {new}").
_INVARIANT = {"more", "from", "of", "fra", "av", "til"}
_COUNTED_NOUN = re.compile(r"\{count\}\s+([^\W\d_]+)")


def _plural_groups(language: Language) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for key in catalogue(language):
        stem, _, form = key.rpartition(".")
        if form in PLURAL_FORMS:
            groups.setdefault(stem, set()).add(form)
    return groups


@pytest.mark.parametrize("language", list(Language))
def test_no_catalogue_leaves_the_plural_to_the_reader(language: Language) -> None:
    found = {k: v for k, v in catalogue(language).items() if _PICK_YOURSELF.search(v)}
    assert found == {}


@pytest.mark.parametrize("language", list(Language))
def test_every_plural_key_has_one_and_other(language: Language) -> None:
    groups = _plural_groups(language)
    assert groups, "no plural keys at all"
    missing = {stem: forms for stem, forms in groups.items() if forms != set(PLURAL_FORMS)}
    assert missing == {}


def test_both_languages_have_the_same_plural_keys() -> None:
    assert set(_plural_groups(Language.EN)) == set(_plural_groups(Language.NB))


@pytest.mark.parametrize("language", list(Language))
def test_every_key_that_counts_a_noun_has_plural_forms(language: Language) -> None:
    flat = {
        key: text
        for key, text in catalogue(language).items()
        if key.rpartition(".")[2] not in PLURAL_FORMS
        and any(w.lower() not in _INVARIANT for w in _COUNTED_NOUN.findall(text))
    }
    assert flat == {}


def test_the_count_picks_the_form_in_both_languages() -> None:
    assert t(Language.EN, "pairs.people_count", count=1) == "1 person"
    assert t(Language.EN, "pairs.people_count", count=2) == "2 people"
    assert t(Language.NB, "pairs.people_count", count=2) == "2 personer"
    assert t(Language.NB, "onboarding.home_pending", count=1) == (
        "1 rolleforespørsel venter på godkjenning."
    )
    assert t(Language.NB, "onboarding.home_pending", count=1500).startswith("1\u00a0500 ")
    assert t(Language.EN, "pairs.joined", count=1).startswith("You're in! Every Monday")
    assert t(Language.NB, "pairs.joined", count=2).startswith("Du er med! Hver 2. uke")
