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
