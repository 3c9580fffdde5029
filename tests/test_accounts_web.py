"""Registration, sign-in, sessions, password reset, invitations and organisations through the HTML face."""

import re
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from app.accounts.models import (
    Invitation,
    LoginAttempt,
    Membership,
    Organisation,
    PasswordReset,
    User,
    UserSession,
)
from app.audit.models import AuditEvent
from app.db import utcnow
from app.errors import Invalid
from app.notifications.models import OutboxMessage
from app.security.tokens import digest
from tests.conftest import csrf_token, mailed_link, post_form, sign_in
from tests.factories import PASSWORD

REGISTRATION = {
    "name": "Amina Benali",
    "email": "amina@wayz.example",
    "password": "tramway-feeder-2017",
    "organisation_name": "Wayz Mobility",
    "country": "ma",
    "city": "Casablanca",
    "website": "https://wayz.example",
    "preferred_language": "fr",
    "accept_terms": "true",
}


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_register_creates_user_and_startup_then_the_emailed_link_confirms_and_signs_in(client, db, caplog):
    caplog.set_level("INFO", logger="app.notifications.service")
    response = post_form(client, "/register", REGISTRATION, page="/register")
    assert response.status_code == 303 and response.headers["location"] == "/register/sent"
    assert "medina_session" not in response.cookies  # not before the address is confirmed
    user = db.exec(select(User).where(User.email == "amina@wayz.example")).one()
    organisation = db.exec(select(Organisation).where(Organisation.name == "Wayz Mobility")).one()
    assert organisation.kind == "startup" and organisation.slug == "wayz-mobility" and organisation.country == "MA"
    membership = db.exec(select(Membership).where(Membership.user_id == user.id)).one()
    assert membership.role == "admin" and membership.organisation_id == organisation.id
    assert user.password_hash.startswith("$argon2") and user.email_verified_at is None
    assert "amina@wayz.example" in client.get("/register/sent").text
    refused = post_form(client, "/login", {"email": user.email, "password": REGISTRATION["password"]})
    assert refused.status_code == 422 and "medina_session" not in refused.cookies
    path = mailed_link(caplog, user.email, "/email/confirm/")
    assert client.get(path).status_code == 200  # a page with a button: opening the link confirms nothing
    db.refresh(user)
    assert user.email_verified_at is None
    confirmed = post_form(client, path, {}, page=path)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/login"
    assert "medina_session" not in confirmed.cookies  # the link confirms; the password signs in
    sign_in(client, user.email, REGISTRATION["password"])
    home = client.get("/")
    assert "Amina Benali" in home.text and "Wayz Mobility" in home.text
    assert post_form(client, path, {}, page="/password/forgot").status_code == 404  # single use


def test_confirmation_mails_are_not_a_way_to_flood_a_mailbox_and_older_links_die(client, db, make, caplog):
    caplog.set_level("INFO", logger="app.notifications.service")
    user = make.user(unconfirmed=True)
    for _ in range(3):  # each sign-in with the right password asks for a link: one mail in ten minutes
        refused = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
        assert refused.status_code == 422
    assert len(db.exec(select(OutboxMessage).where(OutboxMessage.to_address == user.email)).all()) == 1
    first = mailed_link(caplog, user.email, "/email/confirm/")
    for _ in range(2):
        post_form(client, "/register", {**REGISTRATION, "email": user.email}, page="/register")
    assert len(db.exec(select(OutboxMessage).where(OutboxMessage.to_address == user.email)).all()) == 2
    post_form(client, "/password/forgot", {"email": user.email}, page="/password/forgot")
    reset = mailed_link(caplog, user.email, "/password/reset/")
    assert post_form(client, reset, {"password": "a-brand-new-passphrase"}, page=reset).status_code == 303
    assert client.get(first).status_code == 404  # the reset proved the address; the pending link died
    sign_in(client, user.email, "a-brand-new-passphrase")


def test_registering_a_taken_email_answers_the_same_and_emails_its_owner(client, db, make, caplog):
    caplog.set_level("INFO", logger="app.notifications.service")
    owner = make.user(email="taken@example.org")
    before = (count(db, User), count(db, Organisation))
    taken = post_form(client, "/register", {**REGISTRATION, "email": "TAKEN@example.org"}, page="/register")
    fresh = post_form(client, "/register", {**REGISTRATION, "email": "fresh@example.org"}, page="/register")
    assert (taken.status_code, taken.headers["location"]) == (fresh.status_code, fresh.headers["location"])
    assert (count(db, User), count(db, Organisation)) == (before[0] + 1, before[1] + 1)  # only the fresh one
    mail = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == owner.email)).one()
    assert "/password/forgot" in mail.body and "/email/confirm/" not in mail.body


def test_register_refuses_bad_input_keeps_it_and_writes_nothing(client, db):
    before = (count(db, User), count(db, Organisation))
    bad = {**REGISTRATION, "email": "not-an-email", "password": "short", "organisation_name": "W" * 200}
    response = post_form(client, "/register", bad, page="/register", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Enter a valid email address" in response.text
    assert "Use at most 160 characters." in response.text
    assert 'value="not-an-email"' in response.text  # the input is kept
    assert "short" not in response.text.split("<main")[1]  # but never the password
    assert (count(db, User), count(db, Organisation)) == before


def test_register_refuses_a_common_password_without_telling_whether_the_email_is_taken(client, make):
    make.user(email="taken@example.org")
    response = post_form(
        client,
        "/register",
        {**REGISTRATION, "email": "TAKEN@example.org", "password": "password12"},
        page="/register",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "too common" in response.text
    assert "already exists" not in response.text


def test_register_requires_accepting_the_terms(client, db):
    data = {k: v for k, v in REGISTRATION.items() if k != "accept_terms"}
    response = post_form(client, "/register", data, page="/register", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "You must accept the terms of use" in response.text
    assert count(db, User) == 0


def test_wrong_csrf_token_is_refused_and_changes_nothing(client, db):
    csrf_token(client, "/register")
    response = client.post(
        "/register",
        data={**REGISTRATION, "csrf_token": "forged"},
        headers={"Origin": "http://testserver", "Accept-Language": "en"},
    )
    assert response.status_code == 403
    assert "Your form has expired" in response.text
    assert count(db, User) == 0


def test_cross_site_origin_is_refused_even_with_a_valid_token(client, db):
    token = csrf_token(client, "/register")
    response = client.post(
        "/register", data={**REGISTRATION, "csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert count(db, User) == 0


def test_sign_in_issues_a_new_session_id_and_sign_out_ends_it_on_the_server(client, db, make):
    user = make.user()
    client.cookies.set("medina_session", "attacker-chosen-id")
    first = sign_in(client, user.email).cookies["medina_session"]
    assert first != "attacker-chosen-id"
    assert db.exec(select(UserSession).where(UserSession.key_hash == digest(first))).one().user_id == user.id
    token = csrf_token(client, "/")
    response = client.post("/logout", data={"csrf_token": token}, headers={"Origin": "http://testserver"})
    assert response.status_code == 303
    assert db.exec(select(UserSession).where(UserSession.user_id == user.id)).first() is None
    client.cookies.set("medina_session", first)  # replaying the old cookie does not sign in
    assert client.get("/account").status_code == 303


def test_unknown_email_and_wrong_password_get_the_same_answer(client, make):
    user = make.user()
    wrong = post_form(
        client,
        "/login",
        {"email": user.email, "password": "wrong-password-1"},
        headers={"Accept-Language": "en"},
    )
    unknown = post_form(
        client,
        "/login",
        {"email": "nobody@example.org", "password": "wrong-password-1"},
        headers={"Accept-Language": "en"},
    )
    assert wrong.status_code == unknown.status_code == 422
    assert "The email or password is incorrect." in wrong.text
    strip = lambda html: html.replace(user.email, "X").replace("nobody@example.org", "X")  # noqa: E731
    assert strip(wrong.text.split("<main")[1]) == strip(unknown.text.split("<main")[1])


def test_brute_force_is_throttled_per_account_with_a_clear_message(client, db, make):
    user = make.user()
    for _ in range(5):
        assert post_form(client, "/login", {"email": user.email, "password": "wrong-password-1"}).status_code == 422
    blocked = post_form(
        client, "/login", {"email": user.email, "password": PASSWORD}, headers={"Accept-Language": "en"}
    )
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in blocked.text
    assert int(blocked.headers["Retry-After"]) > 0
    assert "medina_session" not in blocked.cookies
    assert (
        db.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "login.throttled")).one() == 1
    )


def test_brute_force_is_throttled_per_address_across_accounts(client, db, monkeypatch):
    from app.config import get_settings

    monkeypatch.setattr(get_settings(), "login_max_failures_per_address", 3)
    for n in range(3):
        post_form(client, "/login", {"email": f"probe{n}@example.org", "password": "wrong-password-1"})
    blocked = post_form(client, "/login", {"email": "probe9@example.org", "password": "wrong-password-1"})
    assert blocked.status_code == 429
    assert count(db, LoginAttempt) == 3  # throttled attempts do not even check the password


def test_safe_redirect_after_sign_in(client, make):
    user = make.user()
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD, "next": "//evil.example/x"})
    assert response.headers["location"] == "/"
    client.cookies.clear()
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD, "next": "/account"})
    assert response.headers["location"] == "/account"


def test_password_reset_link_works_once(client, db, make, caplog):
    caplog.set_level("INFO", logger="app.notifications.service")
    user = make.user()
    response = post_form(client, "/password/forgot", {"email": user.email.upper()}, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "If an account exists" in response.text
    message = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == user.email)).one()
    path = mailed_link(caplog, user.email, "/password/reset/")
    assert path.rsplit("/", 1)[1] not in message.body  # the outbox withholds the live link
    assert client.get(path).status_code == 200
    weak = post_form(client, path, {"password": "123456789"}, page=path, headers={"Accept-Language": "en"})
    assert weak.status_code == 422 and "Use at least 10 characters." in weak.text
    done = post_form(client, path, {"password": "a-brand-new-passphrase"}, page=path)
    assert done.status_code == 303
    reused = client.get(path, headers={"Accept-Language": "en"})
    assert reused.status_code == 404 and "has already been used" in reused.text
    sign_in(client, user.email, "a-brand-new-passphrase")


def test_password_reset_for_unknown_email_answers_the_same_and_sends_nothing(client, db):
    response = post_form(client, "/password/forgot", {"email": "ghost@example.org"}, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "If an account exists" in response.text
    assert count(db, OutboxMessage) == 0 and count(db, PasswordReset) == 0


def test_expired_reset_link_is_refused(client, db, make):
    user = make.user()
    db.add(PasswordReset(token_hash=digest("old-link"), user_id=user.id, expires_at=utcnow() - timedelta(1)))
    db.flush()
    assert client.get("/password/reset/old-link").status_code == 404


def _invite(client, db, make, kind="partner"):
    admin, organisation = make.member(kind, "admin")
    sign_in(client, admin.email)
    page = f"/organisations/{organisation.slug}"
    response = post_form(client, f"{page}/invitations", {"email": "staff@lydec.example", "role": "admin"}, page=page)
    assert response.status_code == 303, response.text
    shown = client.get(page)
    link = re.search(r'id="invite-link">([^<]+)<', shown.text)
    assert link, "the link is shown once, on the page the POST redirects to"
    assert 'id="invite-link"' not in client.get(page).text
    invitation = db.exec(select(Invitation).where(Invitation.email == "staff@lydec.example")).one()
    mail = db.exec(select(OutboxMessage).where(OutboxMessage.to_address == "staff@lydec.example")).one().body
    path = link.group(1).strip().replace("http://testserver", "")
    assert path.rsplit("/", 1)[1] not in mail  # the outbox withholds the live link
    client.cookies.clear()
    return organisation, invitation, path


def test_an_admin_invites_partner_staff_who_join_with_a_new_account(client, db, make):
    organisation, _invitation, path = _invite(client, db, make)
    assert client.get(path).status_code == 200
    response = post_form(client, path, {"name": "Nadia Lydec", "password": "water-network-leaks"}, page=path)
    assert response.status_code == 303
    user = db.exec(select(User).where(User.email == "staff@lydec.example")).one()
    membership = db.exec(select(Membership).where(Membership.user_id == user.id)).one()
    assert (membership.organisation_id, membership.role) == (organisation.id, "admin")
    again = client.get(path)
    assert again.status_code == 404  # single use


def test_expired_invitation_is_refused_and_creates_no_account(client, db, make):
    _organisation, invitation, path = _invite(client, db, make)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.add(invitation)
    db.flush()
    token = csrf_token(client, "/login")
    response = client.post(
        path,
        data={"csrf_token": token, "name": "Late", "password": "water-network-leaks"},
        headers={"Origin": "http://testserver", "Accept-Language": "en"},
    )
    assert response.status_code == 404 and "has expired" in response.text
    assert db.exec(select(User).where(User.email == "staff@lydec.example")).first() is None


def test_startup_admin_cannot_invite_into_another_organisation(client, make):
    admin, _ = make.member("startup", role="admin")
    other = make.organisation("startup")
    sign_in(client, admin.email)
    response = post_form(client, f"/organisations/{other.slug}/invitations", {"email": "x@example.org"}, page="/")
    assert response.status_code == 404


def test_member_cannot_invite_but_admin_can(client, make):
    organisation = make.organisation("startup")
    member = make.user(organisation=organisation, role="member")
    sign_in(client, member.email)
    page = f"/organisations/{organisation.slug}"
    assert client.get(page).status_code == 200
    response = post_form(client, f"{page}/invitations", {"email": "x@example.org"}, page=page)
    assert response.status_code == 403


ENGLISH = {"Accept-Language": "en"}


def test_last_admin_cannot_be_demoted_and_role_changes_are_audited(client, db, make):
    admin, organisation = make.member("startup", role="admin")
    colleague = make.user(organisation=organisation, role="member")
    sign_in(client, admin.email)
    page = f"/organisations/{organisation.slug}"
    mine = db.exec(select(Membership).where(Membership.user_id == admin.id)).one()
    theirs = db.exec(select(Membership).where(Membership.user_id == colleague.id)).one()
    # the refusal is told on the organisation page, not on an error page of its own
    own = post_form(client, f"{page}/members/{mine.id}/role", {"role": "member"}, page=page, headers=ENGLISH)
    assert own.status_code == 303 and own.headers["location"].startswith(page)
    shown = client.get(page, headers=ENGLISH).text
    assert "You cannot change your own role; ask another admin of the organisation." in shown
    assert "Members" in shown
    client.cookies.clear()
    sign_in(client, make.user(platform_admin=True).email)  # a platform admin may demote others, not the last admin
    last = post_form(client, f"{page}/members/{mine.id}/role", {"role": "member"}, page=page, headers=ENGLISH)
    assert last.status_code == 303
    assert "An organisation needs at least one admin." in client.get(page, headers=ENGLISH).text
    db.refresh(mine)
    assert mine.role == "admin"
    client.cookies.clear()
    sign_in(client, admin.email)
    assert post_form(client, f"{page}/members/{theirs.id}/role", {"role": "admin"}, page=page).status_code == 303
    db.refresh(theirs)
    assert theirs.role == "admin"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "membership.role_changed")).one()
    assert event.data["new"] == "admin" and event.actor_id == admin.id


def test_deactivation_ends_sessions(client, db, make):
    admin = make.user(platform_admin=True)
    victim = make.user()
    other_client_cookie = sign_in(client, victim.email).cookies["medina_session"]
    client.cookies.clear()
    sign_in(client, admin.email)
    response = post_form(client, f"/admin/users/{victim.id}/active", {"active": "false"}, page="/admin/users")
    assert response.status_code == 303
    assert db.exec(select(UserSession).where(UserSession.user_id == victim.id)).first() is None
    client.cookies.clear()
    client.cookies.set("medina_session", other_client_cookie)
    assert client.get("/account").status_code == 303
    refused = post_form(client, "/login", {"email": victim.email, "password": PASSWORD})
    assert refused.status_code == 422


def test_operator_creates_an_organisation_with_a_unique_slug(client, db, make):
    operator, _ = make.member("operator")
    sign_in(client, operator.email)
    no_admin = post_form(
        client,
        "/organisations/new",
        {"kind": "partner", "name": "Lydec", "slug": "lydec"},
        page="/organisations/new",
        headers={"Accept-Language": "en"},
    )
    assert no_admin.status_code == 422 and "first admin" in no_admin.text and 'value="Lydec"' in no_admin.text
    ok = post_form(
        client,
        "/organisations/new",
        {"kind": "partner", "name": "Lydec", "slug": "lydec", "admin_email": "dsi@lydec.example"},
        page="/organisations/new",
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/organisations/lydec"
    invitation = db.exec(select(Invitation).where(Invitation.email == "dsi@lydec.example")).one()
    assert invitation.role == "admin"
    again = post_form(
        client,
        "/organisations/new",
        {"kind": "partner", "name": "Lydec 2", "slug": "lydec", "admin_email": "dsi@lydec.example"},
        page="/organisations/new",
        headers={"Accept-Language": "en"},
    )
    assert again.status_code == 422 and "already taken" in again.text and 'value="Lydec 2"' in again.text
    bad_kind = post_form(client, "/organisations/new", {"kind": "bank", "name": "X Bank"}, page="/organisations/new")
    assert bad_kind.status_code == 422
    assert (
        db.exec(select(func.count()).select_from(Organisation).where(col(Organisation.name).like("%Lydec%"))).one() == 1
    )


def test_language_choice_is_remembered_and_arabic_is_right_to_left(client, make):
    page = client.get("/", headers={"Accept-Language": "ar-MA,ar;q=0.9"})
    assert '<html lang="ar" dir="rtl">' in page.text
    assert '<html lang="fr" dir="ltr">' in client.get("/").text  # default French
    user = make.user()
    sign_in(client, user.email)
    response = post_form(client, "/language", {"language": "en", "next": "/account"}, page="/account")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert user.preferred_language == "en"
    client.cookies.delete("medina_lang")
    assert '<html lang="en" dir="ltr">' in client.get("/account").text  # the account's choice wins


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_friendly_404_page(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "This page does not exist" in response.text and "<html" in response.text


def test_new_token_is_shown_once_after_a_redirect_and_stored_hashed(client, db, make):
    from app.accounts.models import ApiToken

    user = make.user()
    sign_in(client, user.email)
    response = post_form(client, "/account/tokens", {"name": "Lydec sync", "scope": "write"}, page="/account")
    assert response.status_code == 303 and response.headers["location"] == "/account#tokens"
    page = client.get("/account").text
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("mdn_")
    token = db.exec(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert token.token_hash == digest(secret) and token.scopes == "write"
    assert secret not in client.get("/account").text  # a reload does not show it again
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_token_form_errors_keep_the_input(client, make):
    user = make.user()
    sign_in(client, user.email)
    response = post_form(
        client,
        "/account/tokens",
        {"name": "x" * 81, "expires_in_days": "9999"},
        page="/account",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "Use at most 80 characters." in response.text and 'value="9999"' in response.text


def test_refusals_are_audited(client, db, make):
    organisation = make.organisation("startup")
    member = make.user(organisation=organisation, role="member")
    sign_in(client, member.email)
    page = f"/organisations/{organisation.slug}"
    assert post_form(client, f"{page}/invitations", {"email": "x@example.org"}, page=page).status_code == 403
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "access.refused")).one()
    assert event.actor_id == member.id and event.data["path"] == f"{page}/invitations"
    assert db.exec(select(Invitation)).first() is None


def test_two_sign_ups_with_the_same_email_in_another_case_at_once_do_not_fail(client, db, monkeypatch):
    """The second insert meets the case-insensitive unique index (both passed the check for an existing
    account); it answers as for a known email — the same as a registration — not with a 500."""
    from app.accounts import service

    hash_password = service.hash_password

    def meanwhile(password):
        db.add(User(email="DUP@example.org", name="First", password_hash="x"))
        db.commit()  # by the other request's own transaction
        monkeypatch.setattr(service, "hash_password", hash_password)
        return hash_password(password)

    monkeypatch.setattr(service, "hash_password", meanwhile)
    form = {**REGISTRATION, "email": "dup@example.org", "name": "Second", "organisation_name": "Dup SARL"}
    response = post_form(client, "/register", form, page="/register", headers={"Accept-Language": "en"})
    assert response.status_code == 303 and response.headers["location"] == "/register/sent"
    assert db.exec(select(User).where(func.lower(User.email) == "dup@example.org")).one().name == "First"
    assert db.exec(select(Organisation).where(Organisation.name == "Dup SARL")).first() is None


def test_a_password_reset_lists_the_api_tokens_and_revokes_them_unless_told_not_to(client, db, make, caplog):
    caplog.set_level("INFO", logger="app.notifications.service")
    user = make.user()

    def reset(password: str, *, revoke: bool) -> None:
        post_form(client, "/password/forgot", {"email": user.email}, page="/password/forgot")
        path = mailed_link(caplog, user.email, "/password/reset/")
        page = client.get(path, headers={"Accept-Language": "en"})
        assert token.prefix in page.text and 'name="revoke_tokens" value="on"' in page.text
        assert "checked" in page.text.split('name="revoke_tokens"')[1].split(">")[0]  # offered, ticked
        form = {"password": password, **({"revoke_tokens": "on"} if revoke else {})}
        assert post_form(client, path, form, page=path).status_code == 303

    token, secret = make.token(user, "write")
    reset("a-brand-new-passphrase", revoke=True)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    token, secret = make.token(user, "write")
    reset("another-new-passphrase", revoke=False)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_the_site_address_never_comes_from_the_host_header(client, make):
    catalogue = client.get("/catalogue.jsonld", headers={"Host": "attacker.example"})
    assert catalogue.status_code == 200 and "attacker.example" not in catalogue.text
    user = make.user()
    make.token(user)
    _, secret = make.token(user)
    listed = client.get(
        "/api/v1/tokens?limit=1", headers={"Host": "attacker.example", "Authorization": f"Bearer {secret}"}
    )
    assert listed.json()["next"].startswith("http://testserver/api/v1/tokens?")


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\x00", "/a b", "/\u2028x"])
def test_control_characters_in_next_are_refused(client, target):
    response = post_form(client, "/language", {"language": "en", "next": target}, headers={"HX-Request": "true"})
    assert response.headers.get("HX-Redirect", response.headers.get("location")) == "/"


def test_a_stranger_elsewhere_cannot_lock_the_owner_out(db, make):
    """Failures count per account from one address: five wrong passwords from the attacker's address
    throttle that address, not the owner signing in from theirs."""
    from app.accounts import auth
    from app.accounts.service import build_actor
    from app.errors import RateLimited

    owner = make.user()
    stranger = build_actor(db, None, ip="198.51.100.7")
    for _ in range(5):
        with pytest.raises(Invalid):
            auth.authenticate(db, stranger, owner.email, "not-the-password")
    with pytest.raises(RateLimited):
        auth.authenticate(db, stranger, owner.email, PASSWORD)  # even the right password, from there
    assert auth.authenticate(db, build_actor(db, None, ip="203.0.113.9"), owner.email, PASSWORD).id == owner.id
