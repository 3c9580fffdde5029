"""Sending email: every message is written to the outbox, and a `deliver_email` job is queued in the same
transaction (app/jobs): a rolled-back action sends nothing, and the request never waits for an SMTP server.
The job delivers it when MEDINA_SMTP_URL is set, and tries again on a failure (RETRIES times, backing off).

Secrets (the links of invitations and password resets) are never stored readable: the outbox keeps the message
with each secret replaced by a note; the job carries the full text sealed under the secret key (security.sealed),
and only the delivered email carries it. Without an SMTP server, outside production, the job writes the full
message to the worker's log instead (the web server's own, on SQLite), so that a developer can follow the link;
in production it is not written anywhere.

A message may carry small attachments (an audition's .ics invitation): they are stored with it in the outbox
(base64) and attached when it is delivered. They must hold no secret: the outbox shows their names to its readers.
"""

import base64
import logging
import smtplib
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from sqlmodel import Session, col, select

from app import jobs
from app.config import get_settings
from app.db import utcnow
from app.errors import NotFound
from app.i18n import get_language, gettext, set_language
from app.notifications.models import OutboxMessage
from app.notifications.permissions import can_read_outbox
from app.security import sealed
from app.security.actor import Actor
from app.templating import render

log = logging.getLogger(__name__)


RETRIES = 6  # over about an hour: 1, 2, 4, 8, 16 and 32 minutes after the first try

REDACTED = "The link is withheld here: it is only in the email sent to this address."

MAX_ATTACHMENT_BYTES = 256 * 1024  # the outbox keeps small files only (an invitation is a few kilobytes)


@dataclass(frozen=True)
class Attachment:
    """A file sent with an email: its media type and `params` ({"method": "REQUEST"} for an invitation)."""

    filename: str
    media_type: str
    content: bytes
    params: dict[str, str] = field(default_factory=dict)

    def stored(self) -> dict[str, str]:
        media_type = "; ".join([self.media_type, *(f"{k}={v}" for k, v in self.params.items())])
        return {
            "filename": self.filename,
            "media_type": media_type,
            "content": base64.b64encode(self.content).decode("ascii"),
        }

    @classmethod
    def from_stored(cls, stored: dict[str, str]) -> "Attachment":
        media_type, *parameters = (part.strip() for part in stored["media_type"].split(";"))
        params = dict(p.split("=", 1) for p in parameters if "=" in p)
        return cls(stored["filename"], media_type, base64.b64decode(stored["content"]), params)


def send_email(
    session: Session,
    to: str,
    subject: str,
    template: str,
    *,
    secrets: dict[str, str] | None = None,
    attachments: Sequence[Attachment] = (),
    **context: object,
) -> OutboxMessage:
    """Queue an email. `secrets` are template values that only the delivered email may carry."""
    secrets = secrets or {}
    if sum(len(a.content) for a in attachments) > MAX_ATTACHMENT_BYTES:
        raise ValueError("an email's attachments are limited to small files")
    stored = render(template, **context, **dict.fromkeys(secrets, f"[{gettext(REDACTED)}]"))
    body = render(template, **context, **secrets) if secrets else stored
    message = OutboxMessage(
        to_address=to, subject=subject[:200], body=stored, attachments=[a.stored() for a in attachments]
    )
    session.add(message)
    session.flush()
    jobs.enqueue(session, deliver_email, message_id=message.id, sealed_body=sealed.seal(body) if secrets else None)
    return message


class Recipient(Protocol):
    email: str
    preferred_language: str | None


def email_each(
    session: Session,
    recipients: Iterable[Recipient],
    subject: str,
    template: str,
    *,
    subject_vars: dict[str, object] | None = None,
    attachments: Callable[[Recipient], Sequence[Attachment]] | None = None,
    **context: object,
) -> None:
    """Email each recipient in their own language (else the request's): the subject, a message id with its
    `subject_vars`, and the template are translated for each; a context value that is a function of no
    argument is called for each recipient, in their language (a date written out, say), and so is
    `attachments`, with the recipient (an invitation written in their language, addressed to them)."""
    asked = get_language()
    try:
        for recipient in recipients:
            set_language(recipient.preferred_language or asked)
            values: dict[str, Any] = {k: v() if callable(v) else v for k, v in context.items()}
            title = "Medina — " + gettext(subject, **(subject_vars or {}))
            files = attachments(recipient) if attachments is not None else ()
            send_email(session, recipient.email, title, template, attachments=files, **values)
    finally:
        set_language(asked)


@jobs.task("notifications.deliver_email", retries=RETRIES, backoff=60)
def deliver_email(session: Session, message_id: int, sealed_body: str | None = None) -> None:
    """Deliver one outbox message (its full text unsealed when it carries secrets) and mark it sent; a failure
    is noted on the message, and raised so that the queue tries again."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.sent_at is not None:
        return
    body = sealed.unseal(sealed_body) if sealed_body is not None else message.body
    settings = get_settings()
    if not settings.smtp_url:
        if settings.env != "production":
            log.warning("email %s to %s (no MEDINA_SMTP_URL, not sent):\n%s", message.id, message.to_address, body)
        return
    try:
        deliver(message, settings.smtp_url, body)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("email %s to %s not delivered: %s", message.id, message.to_address, exc)
        message.error = str(exc)[:500]
        session.add(message)
        session.commit()  # the note stays while the job fails, to be tried again
        raise
    message.sent_at = utcnow()
    message.error = None
    session.add(message)


def deliver(message: OutboxMessage, smtp_url: str, body: str | None = None) -> None:
    """Send one message through the SMTP server named by smtp_url (smtp://, smtp+starttls:// or smtps://);
    `body` is the full text when it differs from the stored one (secrets)."""
    url = urlsplit(smtp_url)
    email = EmailMessage()
    email["From"] = get_settings().mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="medina.local")
    email.set_content(body if body is not None else message.body)
    for stored in message.attachments:
        attachment = Attachment.from_stored(stored)
        maintype, _, subtype = attachment.media_type.partition("/")
        email.add_attachment(
            attachment.content, maintype, subtype, filename=attachment.filename, params=attachment.params
        )
    host, port = url.hostname or "localhost", url.port
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=20, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port or 25, timeout=20)
    with client:
        if url.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(email)


def list_outbox(session: Session, actor: Actor, limit: int = 100) -> list[OutboxMessage]:
    if not can_read_outbox(actor):
        raise NotFound()
    return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)))


def get_message(session: Session, actor: Actor, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None or not can_read_outbox(actor):
        raise NotFound()
    return message
