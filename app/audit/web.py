"""The audit trail page, for platform admins."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.audit import service
from app.db import SessionDep
from app.web.deps import SignedInDep
from app.web.templating import render

router = APIRouter()


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(request: Request, session: SessionDep, actor: SignedInDep) -> Response:
    return render(request, "admin/audit.html", {"events": service.recent(session, actor)})
