"""Building emails: RFC 5322 headers, plain text plus an HTML alternative, the footer saying
why the person got it and how to stop, and the List-Unsubscribe headers (RFC 2369, RFC 8058).

No tracking: no images, no pixels, no redirecting links; the only links are the ones the
caller wrote (the platform, the dashboard) and the unsubscribe link.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import quote

from bot.cogs.mail.records import Email
from bot.domain import Language
from bot.i18n import t
from bot.messages import OutgoingMessage
from bot.safety import clip

# Mail servers fold long header lines; a subject past this is cut, never wrapped into the body.
SUBJECT_MAX = 200
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """Text safe for a header: whitespace (newlines too, so no header injection) made single."""
    flat = " ".join(text.split())
    return clip(flat, limit)


def sender_address(sender: str) -> str:
    """The bare address of a From value ("Alumni <a@b.no>" -> "a@b.no")."""
    return parseaddr(sender)[1] or sender


def unsubscribe_url(public_url: str, token: str) -> str:
    """The https link that unsubscribes one address (RFC 8058 one-click: a POST to it with
    `List-Unsubscribe=One-Click`); the dashboard serves it. The one place that builds it."""
    return f"{public_url.rstrip('/')}/mail/unsubscribe?t={quote(token, safe='')}"


def unsubscribe_mailto(sender: str) -> str:
    """The mailto form of unsubscribing (RFC 2369): an email to our own address."""
    return f"mailto:{sender_address(sender)}?subject=unsubscribe"


def html_paragraphs(text: str) -> str:
    """Plain text (our Markdown subset) as escaped HTML paragraphs; nothing the text says can
    become markup, a link or an image."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = html.escape(block)
        escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
        escaped = _CODE.sub(r"<code>\1</code>", escaped)
        out.append("<p>" + escaped.replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)


def _footer(lang: Language, why: str, sender: str, link: str | None) -> tuple[str, str]:
    """The footer as text and HTML: why this email came, and how to get no more."""
    address = sender_address(sender)
    if link:
        stop_text = t(lang, "mail.footer.stop_link", link=link, address=address)
        stop_html = t(
            lang,
            "mail.footer.stop_link",
            link=f'<a href="{html.escape(link, quote=True)}">{html.escape(link)}</a>',
            address=html.escape(address),
        )
    else:
        stop_text = t(lang, "mail.footer.stop_mailto", address=address)
        stop_html = html.escape(stop_text)
    text = f"-- \n{why}\n{stop_text}"
    markup = f'<hr>\n<p style="color:#555;font-size:small">{html.escape(why)}<br>\n{stop_html}</p>'
    return text, markup


def build(
    email: Email,
    *,
    lang: Language,
    sender: str,
    now: datetime,
    unsubscribe_link: str | None,
    message_id: str | None = None,
) -> EmailMessage:
    """The finished email: headers, text/plain and text/html, the footer, List-Unsubscribe."""
    msg = EmailMessage(policy=SMTP)
    domain = sender_address(sender).rpartition("@")[2] or "localhost"
    msg["Message-ID"] = message_id or make_msgid(domain=domain)
    msg["Date"] = format_datetime(now)
    msg["From"] = sender
    msg["To"] = Address(addr_spec=email.to)
    if email.reply_to:
        msg["Reply-To"] = Address(addr_spec=email.reply_to)
    msg["Subject"] = one_line(email.subject)
    # RFC 2369 / RFC 8058: mail clients show an unsubscribe button; the https form is one
    # click (a POST without a page in between), offered only where the dashboard serves it.
    mailto = unsubscribe_mailto(sender)
    if unsubscribe_link:
        msg["List-Unsubscribe"] = f"<{unsubscribe_link}>, <{mailto}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    else:
        msg["List-Unsubscribe"] = f"<{mailto}>"
    # Automated mail: out-of-office replies should not answer it (RFC 3834).
    msg["Auto-Submitted"] = "auto-generated"
    foot_text, foot_html = _footer(lang, email.why, sender, unsubscribe_link)
    # Quoted-printable keeps every line ASCII and short, whatever the server's 8BITMIME.
    msg.set_content(f"{email.text.strip()}\n\n{foot_text}\n", cte="quoted-printable")
    body = email.html if email.html is not None else html_paragraphs(email.text)
    page = (
        f'<!DOCTYPE html>\n<html lang="{lang.value}"><head><meta charset="utf-8">'
        f"<title>{html.escape(one_line(email.subject))}</title></head>\n"
        f"<body>\n{body}\n{foot_html}\n</body></html>\n"
    )
    msg.add_alternative(page, subtype="html", cte="quoted-printable")
    return msg


def digest_parts(message: OutgoingMessage) -> tuple[str, str]:
    """The weekly digest (the post the group sees) as plain text and as escaped HTML."""
    lines = [message.title or "", "", message.text.strip(), ""]
    markup = [f"<h1>{html.escape(message.title or '')}</h1>", html_paragraphs(message.text)]
    for name, value in message.fields:
        lines += [name, "-" * len(name), value, ""]
        markup.append(f"<h2>{html.escape(name)}</h2>\n{html_paragraphs(value)}")
    return "\n".join(lines).strip(), "\n".join(markup)
