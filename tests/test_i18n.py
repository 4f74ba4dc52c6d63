"""Both catalogues have the same keys and the same placeholders."""

from __future__ import annotations

from bot.domain import Language
from bot.i18n import catalogue, placeholders, t


def test_catalogues_match() -> None:
    en, nb = catalogue(Language.EN), catalogue(Language.NB)
    assert set(en) == set(nb), set(en) ^ set(nb)
    for key in en:
        assert placeholders(en[key]) == placeholders(nb[key]), key


def test_formatting_and_fallback() -> None:
    assert (
        t("nb", "setup.category_added", name="x", key="y") == "La til kategorien #x (nøkkel `y`)."
    )
    assert t("en", "no.such.key") == "no.such.key"


def test_permissions_are_named_as_the_platform_names_them_in_the_language() -> None:
    from bot.i18n import permission_label

    assert permission_label("nb", "manage_roles") == "Administrer roller"
    assert permission_label("en", "role_hierarchy", "staff").startswith(
        'Manage Roles above "staff"'
    )
    assert permission_label("nb", "channels:manage") == "channels:manage"  # a Slack scope as is


def test_plurals_numbers_dates_and_lists_follow_the_language() -> None:
    from datetime import date

    from bot.i18n import day, join, number, percent, plural_form, short_day, week

    assert plural_form("en", 1) == "one" and plural_form("en", 2) == "other"
    assert plural_form("nb", 1) == "one" and plural_form("nb", 0) == "other"
    assert number("nb", 0.7) == "0,7" and number("en", 0.7) == "0.7"
    assert number("nb", 1500) == "1\xa0500" and number("en", 1500) == "1,500"
    assert percent("nb", 0.36) == "36\xa0%" and percent("en", 0.36) == "36%"
    assert (
        short_day("nb", date(2026, 11, 9)) == "9. nov."
        and short_day("en", date(2026, 11, 9)) == "9 Nov"
    )
    assert day("nb", date(2026, 11, 9)).startswith("9. nov.")
    assert week("nb", date(2026, 11, 9)) == "uke 46" and week("en", date(2026, 11, 9)) == "week 46"
    assert (
        join("nb", ["a", "b", "c"]) == "a, b og c" and join("en", ["a", "b", "c"]) == "a, b and c"
    )
