"""What members see of profiles: the form, a profile, search results and career updates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.cogs.profiles.forms import MENTORING, PROFILE_FIELDS, UPDATES
from bot.cogs.profiles.records import Hit, Profile, ProfileView
from bot.domain import Language
from bot.errors import UserError
from bot.i18n import day, t
from bot.messages import Button, FormField, FormSpec, OutgoingMessage
from bot.safety import clip, neutralise

FORM_ID = "profile"
MENTORING_ACTION = "profile:mentoring"
SEARCH_RESULTS = 10


def yes_no(value: str) -> bool:
    """The value of the mentoring buttons: "yes" or "no" (anything else is refused)."""
    return {"yes": True, "no": False}[value]


def form(lang: Language, current: Profile | None) -> FormSpec:
    """The profile form, filled in with what the member wrote before."""
    saved = current.fields if current else {}
    fields = tuple(
        FormField(
            name=f.key,
            label=t(lang, f"profiles.form.{f.key}"),
            required=f.required,
            long=f.long,
            max_length=f.limit,
            placeholder=t(lang, f"profiles.placeholder.{f.key}"),
            default=str(saved.get(f.key, "")),
        )
        for f in PROFILE_FIELDS
    )
    return FormSpec(FORM_ID, t(lang, "profiles.form_title"), fields)


def field_labels(lang: Language, error: UserError) -> UserError:
    """The refusal of the form with its field named as the member reads it."""
    key = error.params.get("field")
    if key and any(f.key == key for f in PROFILE_FIELDS):
        error.params["field"] = t(lang, f"profiles.field.{key}")
    return error


def saved(lang: Language, profile: Profile) -> OutgoingMessage:
    """The answer to a saved form: mentoring as it stands, and the buttons that change it."""
    state = t(lang, "profiles.yes") if profile.fields.get(MENTORING) else t(lang, "profiles.no")
    return OutgoingMessage(
        "\n".join([t(lang, "profiles.saved"), t(lang, "profiles.mentoring_state", state=state)]),
        buttons=(
            Button(t(lang, "profiles.btn_mentoring_yes"), MENTORING_ACTION, "yes"),
            Button(t(lang, "profiles.btn_mentoring_no"), MENTORING_ACTION, "no"),
        ),
    )


def mentoring_now(lang: Language, open_to_it: bool) -> OutgoingMessage:
    """What the profile says about mentoring now."""
    return OutgoingMessage(
        t(lang, "profiles.mentoring_now_yes" if open_to_it else "profiles.mentoring_now_no")
    )


def fields(lang: Language, view: ProfileView) -> list[tuple[str, str]]:
    """(label, value) pairs of a profile as its viewer may see it (the email only if the view
    carries it, which it does for the owner alone)."""
    out: list[tuple[str, str]] = []
    profile = view.profile
    if profile is not None:
        for f in PROFILE_FIELDS:
            value = profile.fields.get(f.key)
            if value:
                out.append((t(lang, f"profiles.field.{f.key}"), str(value)))
        if profile.fields.get(MENTORING):
            out.append((t(lang, "profiles.field.mentoring"), t(lang, "profiles.yes")))
        updates = profile.fields.get(UPDATES) or []
        if updates:
            latest = updates[0]
            out.append(
                (
                    t(lang, "profiles.latest_update"),
                    f"{latest.get('text', '')} ({_on(lang, latest)})",
                )
            )
    if view.email:
        out.append((t(lang, "profiles.field.email"), view.email))
    return out


def _on(lang: Language, update: dict[str, object]) -> str:
    """The day of a profile update ("29 June 2029"); the store keeps its ISO time."""
    try:
        return day(lang, datetime.fromisoformat(str(update.get("at", ""))), "long")
    except ValueError:
        return "-"


def lines(lang: Language, view: ProfileView) -> list[str]:
    """A profile as lines "Label: value" (empty when the member has no profile)."""
    return [f"{label}: {value}" for label, value in fields(lang, view)]


def card(lang: Language, view: ProfileView) -> OutgoingMessage:
    """`/alumni profile show`: the member's roles, then their profile; a note on one's own."""
    shown = fields(lang, view)
    if view.roles:
        shown.insert(0, (t(lang, "profiles.roles"), ", ".join(view.roles)))
    note = t(lang, "profiles.private_note") if view.own else ""
    return OutgoingMessage(note, title=view.name, fields=tuple(shown))


def found(lang: Language, text: str, hits: Sequence[Hit]) -> OutgoingMessage:
    """Search results: the first few members, one line each, and how many more matched."""
    lines = [t(lang, "profiles.find_title", count=len(hits), words=clip(neutralise(text), 100))]
    for hit in hits[:SEARCH_RESULTS]:
        shown = hit.profile.fields if hit.profile else {}
        about = [str(shown[k]) for k in ("headline", "work", "programme") if shown.get(k)]
        if hit.cohort and not any(hit.cohort in a for a in about):
            about.append(hit.cohort)
        lines.append(f"- **{hit.name}**" + (": " + " · ".join(about) if about else ""))
    if len(hits) > SEARCH_RESULTS:
        lines.append(t(lang, "profiles.find_more", more=len(hits) - SEARCH_RESULTS))
    lines.append(t(lang, "profiles.find_hint"))
    return OutgoingMessage("\n".join(lines))


def update_post(lang: Language, name: str, text: str) -> OutgoingMessage:
    """A career update as #showcase shows it (the text already defused)."""
    return OutgoingMessage(text, title=t(lang, "profiles.update_title", name=name))
