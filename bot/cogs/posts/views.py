"""What members see of posts: cards, forms, reminders and listings, in the group's language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.channels import links
from bot.cogs.posts.forms import KINDS, FieldDef, FieldType, Kind, last_open_day
from bot.cogs.posts.records import Listing, Post
from bot.cogs.privacy.records import ERASED
from bot.domain import Language
from bot.errors import UserError
from bot.i18n import day, moment, t
from bot.messages import Button, ButtonStyle, FormField, FormSpec, OutgoingMessage

CLOSE_ACTION = "post_close"
EDIT_ACTION = "post_edit"


def author(lang: Language, post: Post) -> str:
    """Who posted it, as the card says; a member who erased their data is "another member"."""
    if post.author_name == ERASED:
        return t(lang, "privacy.another_member")
    return post.author_name or "?"


def shown(lang: Language, value: object) -> str:
    """A stored field as the card shows it: erasure's marker in the group's language."""
    return str(value).replace(ERASED, t(lang, "privacy.erased_mark"))


def field_value(lang: Language, field: FieldDef, value: object) -> str:
    """A stored field as people read it: its ISO date "15 June 2029" / "15. juni 2029", an
    event's time "20 September 2029, 18:00" (the database keeps ISO; forms read both back)."""
    text = shown(lang, value)
    try:
        if field.type is FieldType.DATE:
            return day(lang, date.fromisoformat(text), "long")
        if field.type is FieldType.DATETIME:
            if len(text) == len("2029-09-20"):  # an all-day event
                return day(lang, date.fromisoformat(text), "long")
            return moment(lang, datetime.fromisoformat(text))
    except ValueError:
        pass  # not a date the form stored (erased, or older text): shown as it is
    return text


def event_when(lang: Language, post: Post) -> str:
    """When an event is, as people read it ("" for a post with no such field)."""
    return _field(lang, KINDS[post.kind], post, "when")


def _field(lang: Language, kind: Kind, post: Post, name: str) -> str:
    """A post's field by name, as people read it ("" when it has none)."""
    value = post.fields.get(name)
    if not value:
        return ""
    found = next((f for f in kind.fields if f.name == name), None)
    return field_value(lang, found, value) if found else shown(lang, value)


def kind_name(lang: Language, kind: str) -> str:
    """A kind of post as members call it ("Job", "Studio rental")."""
    return t(lang, f"posts.kind.{kind}")


def card(lang: Language, post: Post, timezone: str) -> OutgoingMessage:
    """The message a post shows in its channel: open with buttons, or marked closed."""
    kind = KINDS[post.kind]
    title = kind_name(lang, kind.key) + ": " + shown(lang, post.fields.get(kind.title_field, ""))
    fields = tuple(
        (t(lang, f"posts.field.{f.name}"), field_value(lang, f, post.fields[f.name]))
        for f in kind.fields
        if f.name != kind.title_field and post.fields.get(f.name)
    )
    if post.is_open:
        return OutgoingMessage(
            t(lang, "posts.card_text", author=author(lang, post)),
            title=title,
            fields=fields,
            buttons=(
                Button(
                    t(lang, f"posts.close_button.{kind.key}"),
                    CLOSE_ACTION,
                    str(post.id),
                    ButtonStyle.SUCCESS,
                ),
                Button(t(lang, "posts.edit_button"), EDIT_ACTION, str(post.id)),
            ),
        )
    closed = post.closed_at or post.created_at
    when = day(lang, closed.astimezone(ZoneInfo(timezone)), "long") if closed else ""
    reason = reason_name(lang, post)
    return OutgoingMessage(
        t(lang, "posts.card_closed_text", author=author(lang, post), reason=reason, date=when),
        title=f"[{reason.upper()}] {title}",
        fields=fields,
    )


def reason_name(lang: Language, post: Post) -> str:
    """Why a post closed, in words ("filled", "sold")."""
    return t(lang, f"posts.reason.{post.close_reason or 'closed'}")


def form(
    lang: Language, kind: Kind, form_id: str, context: str, current: Post | None = None
) -> FormSpec:
    """The form of a kind of post; an edit form comes filled in with the post as it is."""
    fields = tuple(
        FormField(
            name=f.name,
            label=t(lang, f"posts.field.{f.name}"),
            required=f.required,
            long=f.type is FieldType.LONG,
            max_length=f.max_length,
            placeholder=t(lang, f"posts.hint.{f.type}") if f.type is not FieldType.TEXT else "",
            default=field_value(lang, f, current.fields[f.name])
            if current and current.fields.get(f.name)
            else "",
        )
        for f in kind.fields
    )
    title_key = "posts.edit_form_title" if current else "posts.form_title"
    return FormSpec(form_id, t(lang, title_key, kind=kind_name(lang, kind.key)), fields, context)


def field_labels(lang: Language, kind: Kind, error: UserError) -> UserError:
    """The refusal of a form with its fields named as the member saw them."""
    for param in ("field", "start", "end"):
        name = error.params.get(param)
        if name and any(f.name == name for f in kind.fields):
            error.params[param] = t(lang, f"posts.field.{name}")
    return error


def reminder(lang: Language, post: Post, anonymous: bool = False) -> OutgoingMessage:
    """The day-before reminder of an event (`anonymous`: as erasure of its author leaves it)."""
    return OutgoingMessage(
        t(
            lang,
            "posts.reminder_text",
            when=event_when(lang, post),
            place=post.fields.get("place", ""),
            author=t(lang, "privacy.another_member") if anonymous else author(lang, post),
        ),
        title=t(lang, "posts.reminder_title", title=post.fields.get("title", "")),
    )


def listings(lang: Language, found: Sequence[Listing], timezone: str) -> OutgoingMessage:
    """The open listings, one line each."""
    if not found:
        return OutgoingMessage(t(lang, "posts.listings_empty"))
    lines = [t(lang, "posts.listings_title", count=len(found))]
    for listing in found:
        post = listing.post
        k = KINDS[post.kind]
        until = (
            f" ({t(lang, 'posts.until', date=last_open_day(post.expires_at, timezone))})"
            if post.expires_at and k.expires in ("deadline", "days")
            else ""
        )
        when = f" {_field(lang, k, post, 'when')}" if k.key == "event" else ""
        lines.append(
            f"- #{post.id} {kind_name(lang, k.key)}: "
            f"{post.fields.get(k.title_field, '')}{when}{until}"
            + (
                f" {t(lang, 'posts.in_channel', channel=listing.channel_name)}"
                if listing.channel_name
                else ""
            )
            + f" ({author(lang, post)})"
        )
    named = {(x.channel_name, x.post.channel_id) for x in found if x.channel_name}
    channels = tuple(pair for name, cid in sorted(named, key=str) for pair in links(name, cid))
    return OutgoingMessage("\n".join(lines), channels=channels)
