"""The audit trail page, for platform admins, and the record of refused requests (either face's 403)."""

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app.audit import service
from app.db import WRITE_OPTION, SessionDep
from app.errors import Forbidden
from app.web.deps import SignedInDep
from app.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(request: Request, session: SessionDep, actor: SignedInDep) -> Response:
    return render(request, "admin/audit.html", {"events": service.recent(session, actor)})


def record_refusal(request: Request, error: Forbidden) -> None:
    """Record a refused action (403) in the request's own session, after its work was rolled back.
    CSRF refusals happen before a session exists; they go to the log only."""
    actor = getattr(request.state, "actor", None)
    session: Session | None = getattr(request.state, "db_session", None)
    log.warning(
        "refused %s %s for user %s: %s",
        request.method,
        request.url.path,
        actor.user_id if actor else None,
        error.detail,
    )
    if session is None or actor is None:
        return
    try:
        session.connection(execution_options={WRITE_OPTION: True})
        service.record(
            session,
            "access.refused",
            actor=actor,
            method=request.method,
            path=request.url.path[:200],
            reason=error.detail[:200],
        )
        session.commit()
    except Exception:  # the refusal answer matters more than its audit row
        log.exception("could not record a refusal")
        session.rollback()  # committing or rolling back hands the connection back to the pool
