"""Startup profiles: the admin edits them (errors kept in the form), members read them, the logo upload is
checked like other uploads and leaves nothing behind when refused."""

import pytest
from sqlmodel import select

from app.files import staging
from app.startups.models import StartupProfile
from tests.conftest import post_form, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def startup(make):
    organisation = make.organisation("startup", slug="aquasense", name="AquaSense")
    return {
        "organisation": organisation,
        "admin": make.user(organisation=organisation, role="admin"),
        "member": make.user(organisation=organisation),
    }


def test_the_admin_fills_in_the_profile_and_members_read_it(client, db, startup):
    sign_in(client, startup["admin"].email)
    response = post_form(
        client,
        "/organisations/aquasense/profile",
        {
            "name": "AquaSense SARL",
            "legal_form": "SARL",
            "country": "ma",
            "city": "Rabat",
            "founding_year": "2015",
            "team_size": "7",
            "website": "https://aquasense.example",
            "sectors": "water, IoT",
            "description": "Leak detection.",
        },
        page="/organisations/aquasense/profile",
    )
    assert response.status_code == 303
    profile = db.exec(select(StartupProfile)).one()
    assert (profile.legal_form, profile.founding_year, profile.sectors) == ("SARL", 2015, ["water", "IoT"])
    assert startup["organisation"].country == "MA" and startup["organisation"].name == "AquaSense SARL"
    client.cookies.clear()
    sign_in(client, startup["member"].email)
    page = client.get("/organisations/aquasense")
    assert "Leak detection." in page.text
    assert client.get("/organisations/aquasense/profile").status_code == 404


def test_bad_input_is_explained_and_kept(client, db, startup):
    sign_in(client, startup["admin"].email)
    response = post_form(
        client,
        "/organisations/aquasense/profile",
        {"name": "AquaSense", "founding_year": "1800", "description": "Kept text."},
        page="/organisations/aquasense/profile",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422 and "Kept text." in response.text and 'id="e-founding_year"' in response.text
    assert db.exec(select(StartupProfile)).all() == []


def _upload(client, name, data, token):
    return client.post(
        f"/organisations/aquasense/logo?csrf_token={token}",
        files={"file": (name, data)},
        headers={"Origin": "http://testserver"},
    )


def test_the_logo_is_stored_or_refused_without_leaving_files(client, db, startup, tmp_root):
    from tests.conftest import csrf_token

    sign_in(client, startup["admin"].email)
    token = csrf_token(client, "/organisations/aquasense/profile")
    before = sorted(p for p in staging.files_root().rglob("*") if p.is_file())
    refused = _upload(client, "logo.png", b"GIF89a not a png", token)
    assert refused.status_code == 415
    assert sorted(p for p in staging.files_root().rglob("*") if p.is_file()) == before
    assert _upload(client, "logo.png", PNG, token).status_code == 303
    image = client.get("/organisations/aquasense/logo")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
