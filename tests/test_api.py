"""The REST API: bearer tokens only, scopes, problem details, /me, tokens and organisations."""

from datetime import timedelta

from sqlmodel import select

from app.accounts import service as accounts
from app.accounts.models import ApiToken, Organisation
from app.audit.models import AuditEvent
from app.db import utcnow
from tests.conftest import sign_in


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_me_returns_the_user_and_their_organisations(client, make):
    user, organisation = make.member("partner", role="admin")
    _, secret = make.token(user)
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == user.email and body["url"] == "http://testserver/api/v1/me"
    assert body["organisations"] == [
        {
            "organisation_id": organisation.id,
            "organisation_slug": organisation.slug,
            "organisation_name": organisation.name,
            "kind": "partner",
            "role": "admin",
        }
    ]
    assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]


def test_the_browser_cookie_is_never_accepted_by_the_api(client, make):
    user = make.user()
    sign_in(client, user.email)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert set(problem) >= {"type", "title", "status", "detail"} and problem["status"] == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_revoked_expired_and_unknown_tokens_get_401(client, db, make):
    user = make.user()
    token, secret = make.token(user)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.add(token)
    db.flush()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    token.expires_at, token.revoked_at = None, utcnow()
    db.add(token)
    db.flush()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer("mdn_nope")).status_code == 401


def test_deactivated_users_tokens_stop_working(client, db, make):
    user = make.user()
    _, secret = make.token(user)
    user.is_active = False
    db.add(user)
    db.flush()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_tokens_are_stored_hashed_and_last_use_recorded(client, db, make):
    user = make.user()
    token, secret = make.token(user)
    assert secret.startswith("mdn_") and secret not in token.token_hash and token.last_used_at is None
    client.get("/api/v1/me", headers=bearer(secret))
    db.refresh(token)
    assert token.last_used_at is not None


def test_read_token_cannot_write(client, make):
    user, _ = make.member("operator")
    _, secret = make.token(user, "read")
    response = client.post("/api/v1/organisations", json={"kind": "partner", "name": "inwi"}, headers=bearer(secret))
    assert response.status_code == 403
    assert "write scope" in response.json()["detail"] or response.json()["status"] == 403


def test_token_lifecycle_over_the_api(client, db, make):
    user = make.user()
    _, secret = make.token(user, "write")
    created = client.post("/api/v1/tokens", json={"name": "sync", "scope": "read"}, headers=bearer(secret))
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("mdn_") and body["scopes"] == ["read"]
    listing = client.get("/api/v1/tokens", headers=bearer(secret)).json()
    assert {t["name"] for t in listing["items"]} == {"test", "sync"} and listing["next"] is None
    assert "token" not in listing["items"][0]
    assert client.delete(f"/api/v1/tokens/{body['id']}", headers=bearer(secret)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(body["token"])).status_code == 401
    actions = {e.action for e in db.exec(select(AuditEvent))}
    assert {"token.created", "token.revoked"} <= actions


def test_another_users_token_is_404(client, make):
    alice, bob = make.user(), make.user()
    bobs_token, _ = make.token(bob)
    _, secret = make.token(alice, "write")
    assert client.get(f"/api/v1/tokens/{bobs_token.id}", headers=bearer(secret)).status_code == 404
    assert client.delete(f"/api/v1/tokens/{bobs_token.id}", headers=bearer(secret)).status_code == 404


def test_validation_errors_are_problem_details_with_fields(client, make):
    user, _ = make.member("operator")
    _, secret = make.token(user, "write")
    response = client.post(
        "/api/v1/organisations",
        json={"kind": "bank", "name": "x" * 200},
        headers={**bearer(secret), "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {"kind": "Choose one of the options.", "name": "Use at most 160 characters."}


def test_operator_creates_an_organisation_whose_first_admin_then_invites_staff(client, db, make):
    user, _ = make.member("operator")
    _, secret = make.token(user, "write")
    created = client.post(
        "/api/v1/organisations",
        json={"kind": "partner", "name": "inwi", "country": "ma", "admin_email": "dg@inwi.example"},
        headers=bearer(secret),
    )
    assert created.status_code == 201
    org = created.json()
    assert org["slug"] == "inwi" and org["country"] == "MA" and org["url"].endswith(f"/organisations/{org['id']}")
    refused = client.post(
        f"/api/v1/organisations/{org['id']}/invitations",
        json={"email": "noc@inwi.example", "role": "admin"},
        headers=bearer(secret),
    )
    assert refused.status_code == 403  # the operator does not manage the new organisation's members
    first_admin = make.user("dg@inwi.example")
    accounts.add_membership(db, first_admin, db.get(Organisation, org["id"]), "admin")
    invited = client.post(
        f"/api/v1/organisations/{org['id']}/invitations",
        json={"email": "noc@inwi.example", "role": "member"},
        headers=bearer(make.token(first_admin, "write")[1]),
    )
    assert invited.status_code == 201 and "/invitations/" in invited.json()["link"]
    assert db.exec(select(Organisation).where(Organisation.slug == "inwi")).one()


def test_organisations_the_caller_may_not_know_are_404(client, make):
    user, _ = make.member("startup")
    other = make.organisation("startup")
    _, secret = make.token(user)
    assert client.get(f"/api/v1/organisations/{other.id}", headers=bearer(secret)).status_code == 404
    assert client.get("/api/v1/organisations/999999", headers=bearer(secret)).json()["status"] == 404


def test_pagination_limits_and_cursor(client, db, make):
    user = make.user()
    for _n in range(5):
        make.token(user)
    _, secret = make.token(user)
    page = client.get("/api/v1/tokens?limit=4", headers=bearer(secret)).json()
    assert len(page["items"]) == 4 and page["next"]
    rest = client.get(page["next"].replace("http://testserver", ""), headers=bearer(secret)).json()
    assert len(rest["items"]) == 2 and rest["next"] is None
    assert {t["id"] for t in page["items"]}.isdisjoint({t["id"] for t in rest["items"]})
    assert client.get("/api/v1/tokens?limit=501", headers=bearer(secret)).status_code == 422
    assert client.get("/api/v1/tokens?cursor=%%%", headers=bearer(secret)).status_code == 422


def test_token_rows_hold_no_secret(db, make):
    user = make.user()
    _, secret = make.token(user)
    for row in db.exec(select(ApiToken)):
        assert secret not in (row.token_hash, row.prefix, row.name)


def test_api_rate_limit_answers_429_with_retry_after(client, make, monkeypatch):
    from app.api import deps
    from app.config import get_settings

    monkeypatch.setattr(get_settings(), "api_rate_limit_per_minute", 3)
    monkeypatch.setattr(deps, "_limiter", None)
    user = make.user()
    _, secret = make.token(user)
    statuses = [client.get("/api/v1/me", headers=bearer(secret)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/me", headers={**bearer(secret), "Accept-Language": "en"})
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "Too many requests" in limited.json()["detail"]
    other_user = make.user()
    _, other = make.token(other_user)
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200  # per token


def test_sliding_window_frees_slots_as_time_passes():
    from app.security.ratelimit import SlidingWindowLimiter

    limiter = SlidingWindowLimiter(2, window_seconds=60)
    assert limiter.hit("k", now=0) == 0 and limiter.hit("k", now=10) == 0
    assert limiter.hit("k", now=20) == 41
    assert limiter.hit("k", now=60.5) == 0
