"""API tokens: a user creates, names, scopes (read / write) and revokes them.

The secret is shown once at creation; only its SHA-256 is stored, with a short prefix to recognise it.
A token acts with its user's permissions narrowed by its scopes; it stops working when revoked, expired,
or when its user is deactivated. `last_used_at` is updated at most once a minute.
"""

from datetime import timedelta

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.models import ApiToken, User
from app.accounts.schemas import TokenCreate
from app.audit import service as audit
from app.db import utcnow
from app.errors import Forbidden, NotFound
from app.security.actor import Actor
from app.security.tokens import digest, new_secret

PREFIX = "mdn_"


def create_token(session: Session, actor: Actor, data: TokenCreate) -> tuple[ApiToken, str]:
    if actor.user is None or not actor.is_authenticated:
        raise NotFound()
    if actor.scopes is not None and "write" not in actor.scopes:
        raise Forbidden("This token may only read.")
    if actor.scopes is not None and data.scope == "write" and "write" not in actor.scopes:
        raise Forbidden("A token cannot create a token with more rights than its own.")
    secret = PREFIX + new_secret()
    token = ApiToken(
        user_id=actor.user.id or 0,
        name=data.name,
        prefix=secret[: len(PREFIX) + 6],
        token_hash=digest(secret),
        scopes=data.scope,
        expires_at=utcnow() + timedelta(days=data.expires_in_days) if data.expires_in_days else None,
    )
    session.add(token)
    session.flush()
    audit.record(session, "token.created", actor=actor, target=("api_token", token.id), scope=data.scope)
    return token, secret


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    if actor.user is None:
        raise NotFound()
    return list(
        session.exec(select(ApiToken).where(ApiToken.user_id == actor.user.id).order_by(col(ApiToken.id).desc()))
    )


def get_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or actor.user is None or token.user_id != actor.user.id:
        raise NotFound()
    return token


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = get_token(session, actor, token_id)
    if actor.scopes is not None and "write" not in actor.scopes:
        raise Forbidden("This token may only read.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        audit.record(session, "token.revoked", actor=actor, target=("api_token", token.id))
    return token


def _active(user_id: int) -> SelectOfScalar[ApiToken]:
    now = utcnow()
    return select(ApiToken).where(
        ApiToken.user_id == user_id,
        col(ApiToken.revoked_at).is_(None),
        (col(ApiToken.expires_at).is_(None)) | (col(ApiToken.expires_at) > now),
    )


def active_tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """The tokens that still work, for the password-reset page (shown to whoever holds the reset link)."""
    return list(session.exec(_active(user_id).order_by(col(ApiToken.id))))


def revoke_all_tokens(session: Session, actor: Actor, user_id: int) -> int:
    """Revoke every working token of the user (a password reset); returns how many."""
    revoked = active_tokens_of(session, user_id)
    for token in revoked:
        token.revoked_at = utcnow()
        session.add(token)
        audit.record(session, "token.revoked", actor=actor, actor_id=user_id, target=("api_token", token.id))
    return len(revoked)


def authenticate_token(session: Session, secret: str) -> tuple[User, ApiToken] | None:
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == digest(secret))).first()
    now = utcnow()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        session.add(token)
    return user, token
