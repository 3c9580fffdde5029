"""Request bodies are bounded per kind of route, before anything parses them (the red-team's H1); the
streamed-upload routes keep the upload limits. Memory under huge bodies is measured in test_under_load.py."""

import pytest

from app.config import get_settings
from app.main import create_app
from app.security.bodylimit import upload_path_patterns
from tests.conftest import csrf_token
from tests.test_datasets import new_dataset, setting, token, upload  # noqa: F401  (setting is a fixture)

KIB = 1024


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(get_settings(), "max_body_bytes", 64 * KIB)
    return 64 * KIB


def test_every_streamed_upload_route_is_known_to_the_limit():
    paths = {pattern.pattern for pattern in upload_path_patterns(create_app().routes)}
    assert len(paths) == 6  # dataset files (API, page), attachments (API, page), challenge image, startup logo
    assert any("attachments" in p and p.startswith("^/api/v1/") for p in paths)


def test_a_form_over_the_limit_is_413_on_a_page_in_the_users_language(client, small_limit):
    token_value = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"csrf_token": token_value, "email": "a@example.org", "password": "x" * (small_limit + 1)},
        headers={"Origin": "http://testserver", "Accept-Language": "fr"},
    )
    assert response.status_code == 413
    assert ("text/html" in response.headers["content-type"] and "64 Kio" in response.text) or "64 KiB" in response.text


def test_a_form_under_the_limit_still_works(client, small_limit):
    token_value = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"csrf_token": token_value, "email": "a@example.org", "password": "x" * (small_limit // 2)},
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 422  # read and answered: a wrong password, not a refused body


def test_json_over_the_limit_is_413_problem_and_without_a_token_401_unread(client, make, small_limit):
    body = {"name": "x" * (small_limit + 1)}
    anonymous = client.post("/api/v1/tokens", json=body)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    headers = {"Authorization": f"Bearer {make.token(make.user(), 'write')[1]}", "Accept-Language": "en"}
    too_big = client.post("/api/v1/tokens", json=body, headers=headers)
    assert too_big.status_code == 413
    assert too_big.json()["detail"] == "The request is larger than 64 KiB; send less."


def test_uploads_keep_their_own_limit_above_the_body_limit(client, db, make, setting, small_limit):  # noqa: F811
    view = new_dataset(db, make, setting)
    data = b"a,b\n" + b"1,2\n" * (small_limit // 2)  # twice the body limit
    answer = upload(client, token(make, setting["sponsor"]), view.dataset.id, "big.csv", data, "text/csv")
    assert answer.status_code == 201, answer.text
    assert answer.json()["size"] == len(data)


def test_an_upload_route_takes_the_upload_limit_only_for_multipart(client, db, make, setting, small_limit):  # noqa: F811
    view = new_dataset(db, make, setting)
    response = client.post(
        f"/datasets/{view.dataset.id}/files",
        content=b"csrf_token=x&f=" + b"A" * (2 * small_limit),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://testserver"},
        cookies={"medina_csrf": "x" * 30},
    )
    assert response.status_code == 413


def test_a_multipart_body_without_the_token_in_the_query_is_refused_unread(client, monkeypatch):
    from starlette.requests import Request

    def never(*args, **kwargs):
        raise AssertionError("the CSRF check parsed a multipart body")

    monkeypatch.setattr(Request, "form", never)
    client.cookies.set("medina_csrf", "x" * 30)
    response = client.post(
        "/proposals/1/attachments",
        files={"file": ("a.pdf", b"%PDF-1.7\n" + b"0" * 1000)},
        data={"csrf_token": "whatever"},
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 403
