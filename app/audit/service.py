"""Recording and listing audit events. Recording never fails the caller's action for lack of context."""

import logging
from typing import Any

from fastapi import Request
from sqlmodel import Session, col, select

from app.accounts.permissions import can_read_audit
from app.audit.models import AuditEvent
from app.db import WRITE_OPTION
from app.errors import Forbidden, NotFound
from app.security.actor import Actor

log = logging.getLogger(__name__)


def record(
    session: Session,
    action: str,
    *,
    actor: Actor | None = None,
    actor_id: int | None = None,
    target: tuple[str, Any] | None = None,
    **data: Any,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor_id=actor_id if actor_id is not None else (actor.user_id if actor else None),
        target_type=target[0] if target else None,
        target_id=str(target[1]) if target else None,
        ip=actor.ip if actor else data.pop("ip", None),
        data={k: v for k, v in data.items() if v is not None},
    )
    session.add(event)
    return event


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
        record(
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


def recent(session: Session, actor: Actor, limit: int = 200) -> list[AuditEvent]:
    if not can_read_audit(actor):
        raise NotFound()
    return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)))
