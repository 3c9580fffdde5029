"""HTML pages built from several domains: the home page."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.db import SessionDep
from app.pages import home as home_page
from app.web.deps import ActorDep
from app.web.templating import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    return render(request, "pages/home.html", {"home": home_page.build_home(session, actor)})
