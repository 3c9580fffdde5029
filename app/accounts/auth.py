"""Signing in and out, server-side sessions, and password resets.

Rules:
- Login failures are counted over MEDINA_LOGIN_WINDOW_MINUTES per account from one address, per address, and
  per account from every address (a much higher bound); past a limit the login is refused with the wait
  time, before the password is even checked. An attempt is recorded before it is counted, so concurrent
  attempts cannot slip past the limits. Counts live in the database so that several app processes share them.
- An unknown email and a wrong password get the same answer after the same work (a dummy hash is checked).
- A session cookie holds a random key; only its SHA-256 is stored. Signing in issues a new key; signing out,
  resetting the password and deactivation delete the server-side rows.
- A password reset link is single-use and expires after MEDINA_PASSWORD_RESET_MINUTES; asking for one
  answers the same whether or not the email has an account. The reset ends every session, and revokes the
  account's API tokens unless the user unticks that (the reset page lists them).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from app.accounts.models import LoginAttempt, PasswordReset, User, UserSession
from app.accounts.service import (
    end_email_confirmations,
    get_user_by_email,
    normalise_email,
    send_email_confirmation,
)
from app.accounts.tokens import revoke_all_tokens
from app.audit import service as audit
from app.config import get_settings, site_url
from app.db import release_locks, utcnow
from app.errors import Invalid, NotFound, RateLimited
from app.i18n import gettext
from app.notifications import service as notifications
from app.security.actor import Actor
from app.security.passwords import hash_password, password_problem, verify_password
from app.security.tokens import digest, new_secret

BAD_CREDENTIALS = "The email or password is incorrect."
UNCONFIRMED = (
    "Confirm your email address first with the link we emailed you (a new one goes out at most every ten minutes)."
)


TOO_MANY = "Too many failed sign-in attempts. Try again in %(minutes)s minutes."


def _window_start() -> datetime:
    return utcnow() - timedelta(minutes=get_settings().login_window_minutes)


def _failures(session: Session, *conditions: Any) -> tuple[int, datetime | None]:
    count, oldest = session.exec(
        select(func.count(), func.min(LoginAttempt.created_at)).where(
            *conditions,
            LoginAttempt.succeeded == False,  # noqa: E712
            LoginAttempt.created_at > _window_start(),
        )
    ).one()
    return count, oldest


def _over_limits(session: Session, email: str, ip: str) -> int | None:
    """Seconds to wait when a limit is passed (counting the attempt being made), else None. The limits: per
    account from one address (a stranger elsewhere cannot lock the owner out), per address, and per account
    from everywhere (a much higher bound against guessing from many addresses)."""
    settings = get_settings()
    window = timedelta(minutes=settings.login_window_minutes)
    for conditions, limit in (
        ((LoginAttempt.email == email, LoginAttempt.ip == ip), settings.login_max_failures_per_account),
        ((LoginAttempt.ip == ip,), settings.login_max_failures_per_address),
        ((LoginAttempt.email == email,), settings.login_max_failures_per_account_everywhere),
    ):
        count, oldest = _failures(session, *conditions)
        if count > limit and oldest is not None:
            return max(int((oldest + window - utcnow()).total_seconds()) + 1, 1)
    return None


def authenticate(session: Session, actor: Actor, email: str, password: str) -> User:
    """Check a sign-in. The attempt is recorded (as a failure until it succeeds) and committed before the
    limits are counted, so concurrent attempts all see each other: at most the limit of them get their password
    checked, however many arrive at once. The password is checked with no transaction open (argon2 is slow and
    SQLite's write lock must not wait on it). A refused (throttled) attempt is not kept: it does not prolong
    the wait."""
    ip = (actor.ip or "unknown")[:64]
    key = normalise_email(email)[:254]
    attempt = LoginAttempt(email=key, ip=ip, succeeded=False)
    session.add(attempt)
    release_locks(session)  # the attempt counts, for every concurrent sign-in, from now on
    retry_after = _over_limits(session, key, ip)
    if retry_after is not None:
        session.delete(attempt)
        audit.record(session, "login.throttled", actor=actor, email=key)
        raise RateLimited(TOO_MANY, retry_after=retry_after)
    user = get_user_by_email(session, key)
    password_hash = user.password_hash if user else None
    release_locks(session)
    ok = verify_password(password, password_hash)
    if not ok or user is None or not user.is_active:
        audit.record(session, "login.failed", actor=actor, actor_id=user.id if user else None, email=key)
        raise Invalid({"email": BAD_CREDENTIALS}, detail=BAD_CREDENTIALS)
    attempt.succeeded = True
    if user.email_verified_at is None:
        session.add(attempt)
        send_email_confirmation(session, user)
        raise Invalid({"email": UNCONFIRMED}, detail=UNCONFIRMED)  # only the password's owner learns this
    user.last_login_at = utcnow()
    session.add_all([attempt, user])
    audit.record(session, "login.succeeded", actor=actor, actor_id=user.id, target=("user", user.id))
    return user


@dataclass(frozen=True)
class NewSession:
    key: str
    row: UserSession


def start_session(session: Session, user: User, *, ip: str | None, user_agent: str | None) -> NewSession:
    key = new_secret()
    row = UserSession(
        key_hash=digest(key),
        user_id=user.id or 0,
        expires_at=utcnow() + timedelta(days=get_settings().session_days),
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    session.flush()
    return NewSession(key=key, row=row)


def user_for_session_key(session: Session, key: str | None) -> User | None:
    if not key or len(key) > 200:
        return None
    row = session.exec(select(UserSession).where(UserSession.key_hash == digest(key))).first()
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.is_active else None


def end_session(session: Session, actor: Actor, key: str | None) -> None:
    if key:
        session.exec(delete(UserSession).where(col(UserSession.key_hash) == digest(key)))  # type: ignore[call-overload]
    if actor.user is not None:
        audit.record(session, "logout", actor=actor, target=("user", actor.user_id))


def end_all_sessions(session: Session, user_id: int) -> None:
    session.exec(delete(UserSession).where(col(UserSession.user_id) == user_id))  # type: ignore[call-overload]


def change_password(
    session: Session,
    actor: Actor,
    current: str,
    new: str,
    *,
    session_key: str | None,
    revoke_tokens: bool = False,
) -> User:
    """A signed-in user's new password, given the current one and the strength rules of registration. Every
    other session ends (another device, perhaps someone who knew the old password) and so do pending reset
    links; the session it is done from stays; with `revoke_tokens`, the API tokens are revoked too."""
    user = session.get(User, actor.user_id) if actor.is_authenticated else None
    if user is None:
        raise NotFound()
    if not verify_password(current, user.password_hash):
        raise Invalid({"current_password": "This is not your current password."})
    problem = password_problem(new, email=user.email, name=user.name)
    if problem:
        raise Invalid({"new_password": problem})
    release_locks(session)  # nothing written yet: hash with no write lock held
    now = utcnow()
    user.password_hash = hash_password(new)
    user.updated_at = now
    session.add(user)
    others = delete(UserSession).where(col(UserSession.user_id) == user.id)
    if session_key:
        others = others.where(col(UserSession.key_hash) != digest(session_key))
    session.exec(others)  # type: ignore[call-overload]
    session.exec(  # type: ignore[call-overload]
        update(PasswordReset)
        .where(col(PasswordReset.user_id) == user.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
    )
    if revoke_tokens:
        revoke_all_tokens(session, actor, user.id or 0)
    audit.record(session, "password.changed", actor=actor, target=("user", user.id), tokens_revoked=revoke_tokens)
    return user


# ---- password reset -------------------------------------------------------------------------------------


def request_password_reset(session: Session, actor: Actor, email: str) -> None:
    user = get_user_by_email(session, email) if len(email) <= 254 else None
    if user is None or not user.is_active:
        digest(new_secret())  # keep the two paths' work alike; nothing is sent
        audit.record(session, "password_reset.unknown_email", actor=actor)
        return
    secret = new_secret()
    reset = PasswordReset(
        token_hash=digest(secret),
        user_id=user.id or 0,
        expires_at=utcnow() + timedelta(minutes=get_settings().password_reset_minutes),
    )
    session.add(reset)
    link = site_url(f"/password/reset/{secret}")
    notifications.send_email(
        session,
        user.email,
        gettext("Reset your Medina password"),
        "emails/password_reset.txt",
        user=user,
        secrets={"link": link},
        minutes=get_settings().password_reset_minutes,
    )
    audit.record(session, "password_reset.requested", actor=actor, actor_id=user.id, target=("user", user.id))


def open_password_reset(session: Session, secret: str) -> PasswordReset:
    reset = session.exec(select(PasswordReset).where(PasswordReset.token_hash == digest(secret))).first()
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise NotFound("This reset link is invalid, has expired or has already been used. Ask for a new one.")
    return reset


def reset_password(session: Session, actor: Actor, secret: str, password: str, *, revoke_tokens: bool = False) -> User:
    """Set a new password from a reset link: it ends every session; with `revoke_tokens`, the API tokens too
    (an intruder may have made one; the page lists them and offers it, checked)."""
    reset = open_password_reset(session, secret)
    user = session.get(User, reset.user_id)
    if user is None or not user.is_active:
        raise NotFound("This reset link is invalid, has expired or has already been used. Ask for a new one.")
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise Invalid({"password": problem})
    release_locks(session)  # nothing written yet: hash with no write lock held
    password_hash = hash_password(password)
    now = utcnow()
    claimed = session.exec(  # type: ignore[call-overload]
        update(PasswordReset)
        .where(col(PasswordReset.id) == reset.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # a concurrent request used the link meanwhile
        raise NotFound("This reset link is invalid, has expired or has already been used. Ask for a new one.")
    user.password_hash = password_hash
    user.updated_at = now
    user.email_verified_at = user.email_verified_at or now  # the reset link reached the address
    end_email_confirmations(session, user.id or 0, now)
    session.add(user)
    end_all_sessions(session, user.id or 0)
    if revoke_tokens:
        revoke_all_tokens(session, actor, user.id or 0)
    # a reset also clears the failed attempts that may be locking the account out
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == normalise_email(user.email)))  # type: ignore[call-overload]
    audit.record(session, "password_reset.completed", actor=actor, actor_id=user.id, target=("user", user.id))
    return user
