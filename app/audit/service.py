"""Recording and listing audit events. Recording never fails the caller's action for lack of context."""

from typing import Any

from sqlmodel import Session, col, select

from app.accounts.permissions import can_read_audit
from app.audit.models import AuditEvent
from app.errors import NotFound
from app.security.actor import Actor


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


def recent(session: Session, actor: Actor, limit: int = 200) -> list[AuditEvent]:
    if not can_read_audit(actor):
        raise NotFound()
    return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)))
