"""Signing in and out, server-side sessions, and password resets.

Rules:
- Login failures are counted per account and per client address over MEDINA_LOGIN_WINDOW_MINUTES; past the
  limits the login is refused with the wait time, before the password is even checked. Counts live in the
  database so that several app processes share them.
- An unknown email and a wrong password get the same answer after the same work (a dummy hash is checked).
- A session cookie holds a random key; only its SHA-256 is stored. Signing in issues a new key; signing out,
  resetting the password and deactivation delete the server-side rows.
- A password reset link is single-use and expires after MEDINA_PASSWORD_RESET_MINUTES; asking for one
  answers the same whether or not the email has an account.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app.accounts.models import LoginAttempt, PasswordReset, User, UserSession
from app.accounts.service import get_user_by_email, normalise_email
from app.audit import service as audit
from app.config import get_settings
from app.db import utcnow
from app.errors import Invalid, NotFound, RateLimited
from app.i18n import gettext
from app.notifications import service as notifications
from app.security.actor import Actor
from app.security.passwords import hash_password, password_problem, verify_password
from app.security.tokens import digest, new_secret

BAD_CREDENTIALS = "The email or password is incorrect."
TOO_MANY = "Too many failed sign-in attempts. Try again in %(minutes)s minutes."


def _failures_since(session: Session, column: object, value: str) -> tuple[int, datetime | None]:
    window = timedelta(minutes=get_settings().login_window_minutes)
    count, oldest = session.exec(
        select(func.count(), func.min(LoginAttempt.created_at)).where(
            column == value,  # type: ignore[arg-type]
            LoginAttempt.succeeded == False,  # noqa: E712
            LoginAttempt.created_at > utcnow() - window,
        )
    ).one()
    return count, oldest


def _check_rate_limits(session: Session, email: str, ip: str) -> None:
    settings = get_settings()
    window = timedelta(minutes=settings.login_window_minutes)
    for column, value, limit in (
        (LoginAttempt.email, email, settings.login_max_failures_per_account),
        (LoginAttempt.ip, ip, settings.login_max_failures_per_address),
    ):
        count, oldest = _failures_since(session, column, value)
        if count >= limit and oldest is not None:
            retry_after = int((oldest + window - utcnow()).total_seconds()) + 1
            raise RateLimited(TOO_MANY, retry_after=max(retry_after, 1))


def authenticate(session: Session, actor: Actor, email: str, password: str) -> User:
    ip = actor.ip or "unknown"
    key = normalise_email(email)[:254]
    try:
        _check_rate_limits(session, key, ip)
    except RateLimited:
        audit.record(session, "login.throttled", actor=actor, email=key)
        raise
    user = get_user_by_email(session, key)
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        session.add(LoginAttempt(email=key, ip=ip, succeeded=False))
        audit.record(session, "login.failed", actor=actor, actor_id=user.id if user else None, email=key)
        raise Invalid({"email": BAD_CREDENTIALS}, detail=BAD_CREDENTIALS)
    session.add(LoginAttempt(email=key, ip=ip, succeeded=True))
    user.last_login_at = utcnow()
    session.add(user)
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
    link = f"{get_settings().base_url.rstrip('/')}/password/reset/{secret}"
    notifications.send_email(
        session,
        user.email,
        gettext("Reset your Medina password"),
        "emails/password_reset.txt",
        user=user,
        link=link,
        minutes=get_settings().password_reset_minutes,
    )
    audit.record(session, "password_reset.requested", actor=actor, actor_id=user.id, target=("user", user.id))


def open_password_reset(session: Session, secret: str) -> PasswordReset:
    reset = session.exec(select(PasswordReset).where(PasswordReset.token_hash == digest(secret))).first()
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise NotFound("This reset link is invalid, has expired or has already been used. Ask for a new one.")
    return reset


def reset_password(session: Session, actor: Actor, secret: str, password: str) -> User:
    reset = open_password_reset(session, secret)
    user = session.get(User, reset.user_id)
    if user is None or not user.is_active:
        raise NotFound("This reset link is invalid, has expired or has already been used. Ask for a new one.")
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise Invalid({"password": problem})
    user.password_hash = hash_password(password)
    user.updated_at = utcnow()
    reset.used_at = utcnow()
    session.add_all([user, reset])
    end_all_sessions(session, user.id or 0)
    # a reset also clears the failed attempts that may be locking the account out
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == normalise_email(user.email)))  # type: ignore[call-overload]
    audit.record(session, "password_reset.completed", actor=actor, actor_id=user.id, target=("user", user.id))
    return user
