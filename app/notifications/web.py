"""The email outbox page, for platform admins (where mail goes when no SMTP server is configured)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.db import SessionDep
from app.notifications import service
from app.validation import RecordId
from app.web.deps import SignedInDep
from app.web.templating import render

router = APIRouter()


@router.get("/admin/outbox", response_class=HTMLResponse)
def outbox(request: Request, session: SessionDep, actor: SignedInDep) -> Response:
    return render(request, "admin/outbox.html", {"messages": service.list_outbox(session, actor)})


@router.get("/admin/outbox/{message_id}", response_class=HTMLResponse)
def outbox_message(request: Request, session: SessionDep, actor: SignedInDep, message_id: RecordId) -> Response:
    return render(request, "admin/outbox_message.html", {"message": service.get_message(session, actor, message_id)})
