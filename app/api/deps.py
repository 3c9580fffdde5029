"""Dependencies of the API: the actor behind `Authorization: Bearer` (never the cookie) and scope checks."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.accounts import tokens
from app.accounts.permissions import has_scope
from app.accounts.service import build_actor
from app.config import get_settings, site_url
from app.db import SessionDep, reads_that_write
from app.errors import Forbidden, RateLimited, Unauthenticated
from app.security.actor import Actor
from app.security.bodylimit import NO_TOKEN
from app.security.ratelimit import SlidingWindowLimiter

_limiter: SlidingWindowLimiter | None = None


def token_reads_write(request: Request) -> None:
    """The API's router dependency: a read with an API token records the token's last use, so its transaction
    must be able to write (db.reads_that_write)."""
    if "authorization" in request.headers:
        reads_that_write(request)


def limiter() -> SlidingWindowLimiter:
    global _limiter
    if _limiter is None or _limiter.limit != get_settings().api_rate_limit_per_minute:
        _limiter = SlidingWindowLimiter(get_settings().api_rate_limit_per_minute)
    return _limiter


def _throttle(key: str) -> None:
    wait = limiter().hit(key)
    if wait:
        raise RateLimited("Too many requests; retry after %(seconds)s seconds.", retry_after=wait, seconds=wait)


bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer mdn_…`")


def api_actor(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    ip = request.client.host if request.client else "unknown"
    if credentials is None or credentials.scheme.lower() != "bearer":
        _throttle(f"ip:{ip}")
        raise Unauthenticated(NO_TOKEN)
    found = tokens.authenticate_token(session, credentials.credentials)
    if found is None:
        _throttle(f"ip:{ip}")
        raise Unauthenticated("The API token is invalid, expired or revoked.")
    user, token = found
    _throttle(f"token:{token.id}")
    actor = build_actor(
        session,
        user,
        ip=request.client.host if request.client else None,
        scopes=frozenset(token.scope_list),
        token_id=token.id,
    )
    request.state.actor = actor
    return actor


def writing_actor(actor: Annotated[Actor, Depends(api_actor)]) -> Actor:
    if not has_scope(actor, "write"):
        raise Forbidden("This token has the read scope only; this request needs the write scope.")
    return actor


ApiActor = Annotated[Actor, Depends(api_actor)]
WriteActor = Annotated[Actor, Depends(writing_actor)]


def api_url(request: Request, path: str) -> str:
    return site_url("/api/v1" + path)
