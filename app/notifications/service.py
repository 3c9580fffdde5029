"""Sending email: every message is written to the outbox; when MEDINA_SMTP_URL is set it is also delivered
over SMTP once the request's transaction has committed (so a rolled-back action sends nothing).

Secrets (the links of invitations and password resets) are never stored: the outbox keeps the message with
each secret replaced by a note, and only the delivered email carries it, rendered in memory for that delivery.
Without an SMTP server, outside production, the full message is written to the server's log instead, so that
a developer can follow the link; in production it is not written anywhere.
"""

import logging
import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from sqlmodel import Session, col, select

from app.config import get_settings
from app.db import after_commit, open_session, utcnow
from app.errors import NotFound
from app.i18n import get_language, gettext, set_language
from app.notifications.models import OutboxMessage
from app.notifications.permissions import can_read_outbox
from app.security.actor import Actor
from app.templating import render

log = logging.getLogger(__name__)


REDACTED = "The link is withheld here: it is only in the email sent to this address."


def send_email(
    session: Session,
    to: str,
    subject: str,
    template: str,
    *,
    secrets: dict[str, str] | None = None,
    **context: object,
) -> OutboxMessage:
    """Queue an email. `secrets` are template values that only the delivered email may carry."""
    secrets = secrets or {}
    stored = render(template, **context, **dict.fromkeys(secrets, f"[{gettext(REDACTED)}]"))
    body = render(template, **context, **secrets) if secrets else stored
    message = OutboxMessage(to_address=to, subject=subject[:200], body=stored)
    session.add(message)
    session.flush()
    settings = get_settings()
    message_id = message.id
    if settings.smtp_url:
        smtp_url = settings.smtp_url
        after_commit(session, lambda: _deliver_and_mark(message_id, smtp_url, body))
    elif settings.env != "production":
        after_commit(
            session, lambda: log.warning("email %s to %s (no MEDINA_SMTP_URL, not sent):\n%s", message_id, to, body)
        )
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
    **context: object,
) -> None:
    """Email each recipient in their own language (else the request's): the subject, a message id with its
    `subject_vars`, and the template are translated for each; a context value that is a function of no
    argument is called for each recipient, in their language (a date written out, say)."""
    asked = get_language()
    try:
        for recipient in recipients:
            set_language(recipient.preferred_language or asked)
            values: dict[str, Any] = {k: v() if callable(v) else v for k, v in context.items()}
            title = "Medina — " + gettext(subject, **(subject_vars or {}))
            send_email(session, recipient.email, title, template, **values)
    finally:
        set_language(asked)


def _deliver_and_mark(message_id: int | None, smtp_url: str, body: str) -> None:
    with open_session() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return
        try:
            deliver(message, smtp_url, body)
            message.sent_at = utcnow()
            message.error = None
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("email %s to %s not delivered: %s", message.id, message.to_address, exc)
            message.error = str(exc)[:500]
        session.add(message)
        session.commit()


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
