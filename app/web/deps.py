"""Dependencies of the HTML face: the signed-in actor from the session cookie, CSRF, form data."""

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session

from app import i18n
from app.accounts import auth
from app.accounts.service import build_actor
from app.db import SAFE_METHODS, SessionDep
from app.errors import DomainError
from app.security import csrf
from app.security.actor import Actor
from app.security.nul import drop_nul

SESSION_COOKIE = "medina_session"


class LoginRequired(DomainError):
    status = 401
    title = "Sign in to continue."


class CsrfRefused(DomainError):
    status = 403
    title = "Your form has expired or was sent from another site. Reload the page and try again."


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def load_actor(request: Request, session: Session) -> Actor:
    """The actor behind the session cookie; also sets the page language to the user's choice."""
    user = auth.user_for_session_key(session, request.cookies.get(SESSION_COOKIE))
    actor = build_actor(session, user, ip=client_ip(request))
    request.state.actor = actor
    if actor.user is not None and actor.user.preferred_language in ("fr", "en", "ar"):
        request.state.language = actor.user.preferred_language
    i18n.set_language(request.state.language)
    return actor


def web_actor(request: Request, session: SessionDep) -> Actor:
    return load_actor(request, session)


def signed_in_actor(actor: Annotated[Actor, Depends(web_actor)]) -> Actor:
    if not actor.is_authenticated:
        raise LoginRequired()
    return actor


async def verify_csrf(request: Request) -> None:
    if request.method not in SAFE_METHODS and not await csrf.is_valid(request):
        raise CsrfRefused()


async def form_data(request: Request) -> dict[str, Any]:
    """The submitted form as a dict; fields sent several times become lists; no NUL in any text (app/security/nul)."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        values = [drop_nul(v) for v in form.getlist(key) if isinstance(v, str)]
        if key != csrf.FIELD and values:
            data[key] = values if len(values) > 1 else values[0]
    return data


ActorDep = Annotated[Actor, Depends(web_actor)]
SignedInDep = Annotated[Actor, Depends(signed_in_actor)]
FormDep = Annotated[dict[str, Any], Depends(form_data)]
