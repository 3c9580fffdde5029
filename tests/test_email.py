"""Email: delivery to a real (local, in-process) SMTP server, the whole path from a web request to the
server, and the outbox that platform admins read when no SMTP server is configured."""

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import get_settings
from app.notifications import service
from app.notifications.models import OutboxMessage
from tests.conftest import post_form, sign_in


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class CollectingHandler:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@dataclass
class SmtpServer:
    url: str
    handler: CollectingHandler

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = CollectingHandler()
    port = _free_port()  # Controller does not accept port 0 in every aiosmtpd version
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(url=f"smtp://127.0.0.1:{port}", handler=handler)
    finally:
        controller.stop()


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content().replace("\r\n", "\n")  # SMTP carries CRLF line endings


def test_deliver_sends_a_utf8_message_over_smtp(smtp_server: SmtpServer) -> None:
    text = "Bonjour — مرحبا\nÀ bientôt, Casablanca."
    outgoing = OutboxMessage(to_address="ana@example.org", subject="Défi — تحدي", body=text)
    service.deliver(outgoing, smtp_server.url)

    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.rcpt_tos == ["ana@example.org"]
    assert received.mail_from == parseaddr(get_settings().mail_from)[1]
    message = received.message
    assert message["To"] == "ana@example.org"
    assert message["From"] == get_settings().mail_from
    assert message["Subject"] == "Défi — تحدي"
    assert message["Message-ID"]
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert "Bonjour — مرحبا" in _body(message)
    assert "À bientôt, Casablanca." in _body(message)


def test_password_reset_email_reaches_the_smtp_server(
    client: TestClient, db: Session, make, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "smtp_url", smtp_server.url)

    user = make.user(name="Nadia Benali")

    response = post_form(
        client,
        "/password/forgot",
        {"email": user.email.upper()},
        page="/password/forgot",
        headers={"Accept-Language": "ar"},
    )

    assert response.status_code == 200, response.text
    assert [r.rcpt_tos for r in smtp_server.received] == [[user.email]]
    message = smtp_server.received[0].message
    assert message["To"] == user.email
    assert message["Subject"] == "إعادة تعيين كلمة مرور Medina"  # in the language of the request
    body = _body(message)
    assert "http://testserver/password/reset/" in body
    assert "Nadia Benali" in body

    outbox = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == user.email)).all()
    assert len(outbox) == 1
    link = next(line for line in body.splitlines() if "/password/reset/" in line).strip()
    secret = link.rsplit("/", 1)[1]
    assert secret not in outbox[0].body  # the outbox never holds the live secret
    withheld = "[تم حجب الرابط هنا: إنه موجود فقط في البريد الإلكتروني المرسل إلى هذا العنوان.]"
    assert outbox[0].body.strip() == body.replace(link, withheld).strip()
    assert outbox[0].sent_at is not None
    assert outbox[0].error is None


def test_password_reset_email_for_an_unknown_address_sends_nothing(
    client: TestClient, db: Session, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "smtp_url", smtp_server.url)
    nobody = "nobody-here@example.org"
    response = post_form(client, "/password/forgot", {"email": nobody}, page="/password/forgot")
    assert response.status_code == 200, response.text
    assert smtp_server.received == []
    assert db.exec(select(OutboxMessage).where(OutboxMessage.to_address == nobody)).all() == []


def test_without_smtp_mail_stays_in_the_outbox_that_only_platform_admins_read(
    app, client: TestClient, db: Session, make
) -> None:
    assert get_settings().smtp_url is None
    admin = make.user(platform_admin=True)
    user = make.user()
    other = make.user()

    response = post_form(client, "/password/forgot", {"email": user.email}, page="/password/forgot")
    assert response.status_code == 200, response.text
    message = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == user.email)).one()
    assert message.sent_at is None
    assert message.error is None
    assert "/password/reset/" not in message.body  # the live link never reaches the outbox

    with TestClient(app, base_url="http://testserver", follow_redirects=False) as someone:
        sign_in(someone, other.email)
        assert someone.get("/admin/outbox").status_code == 404
        assert someone.get(f"/admin/outbox/{message.id}").status_code == 404

    sign_in(client, admin.email)
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    assert user.email in page.text
    assert f'href="/admin/outbox/{message.id}"' in page.text
    detail = client.get(f"/admin/outbox/{message.id}")
    assert detail.status_code == 200
    assert user.email in detail.text and "/password/reset/" not in detail.text
