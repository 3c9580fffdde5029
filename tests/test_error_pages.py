"""Error pages with the real request session (not the test override): the signed-in header survives the
rollback that precedes a 404, and unknown URLs still know who is signed in."""

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import db as app_db
from app.accounts import service as accounts
from app.cli import alembic_config
from app.main import create_app
from tests.dbutil import fresh_database_url
from tests.factories import PASSWORD


@pytest.fixture
def real_client(tmp_path, monkeypatch):
    url = fresh_database_url("errorpages", tmp_path)
    command.upgrade(alembic_config(url), "head")
    engine = app_db.make_engine(url)
    monkeypatch.setattr(app_db, "get_engine", lambda: engine)
    with Session(engine) as session:
        organisation, _ = accounts.ensure_organisation(session, slug="wayz", name="Wayz", kind="startup")
        user = accounts.create_user(session, email="amina@example.org", name="Amina Real", password=PASSWORD)
        accounts.add_membership(session, user, organisation, "admin")
        session.commit()
    with TestClient(create_app(), base_url="http://testserver", follow_redirects=False) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        signed = client.post(
            "/login",
            data={"csrf_token": token, "email": "amina@example.org", "password": PASSWORD},
            headers={"Origin": "http://testserver"},
        )
        assert signed.status_code == 303
        yield client
    engine.dispose()


def test_a_404_raised_by_a_service_renders_for_a_signed_in_user(real_client):
    response = real_client.get("/organisations/not-mine", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Amina Real" in response.text and "This page does not exist" in response.text


def test_an_unknown_url_still_shows_the_signed_in_header(real_client):
    response = real_client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "Amina Real" in response.text


def test_admin_pages_are_404_for_others_and_sign_ins_are_audited(real_client):
    from sqlmodel import select

    from app.audit.models import AuditEvent

    page = real_client.get("/organisations/wayz")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = real_client.post(
        "/admin/users/1/active", data={"csrf_token": token, "active": "false"}, headers={"Origin": "http://testserver"}
    )
    assert response.status_code == 404  # not an admin: the page does not exist for them
    with Session(app_db.get_engine()) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "login.succeeded")).first() is not None
