"""HTML pages built from several domains: the home page, a programme's overview (its challenges). This router is
included after the domains' own, so that their fixed paths (/programmes/new) come first."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app import i18n
from app.challenges import permissions as challenge_can
from app.challenges import service as challenges
from app.challenges.service import ChallengeFilters
from app.db import SessionDep, utcnow
from app.pages import home as home_page
from app.programmes import permissions as programme_can
from app.programmes import service as programmes
from app.programmes import web as programmes_web
from app.web.deps import ActorDep
from app.web.templating import page_language, render

router = APIRouter()

CHALLENGES_SHOWN = 100  # on a programme's page; the challenge list has them all


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    return render(request, "pages/home.html", {"home": home_page.build_home(session, actor)})


@router.get("/programmes/{programme_slug}", response_class=HTMLResponse)
def programme_page(request: Request, session: SessionDep, actor: ActorDep, programme_slug: str) -> Response:
    view = programmes.get_programme_by_slug(session, actor, programme_slug)
    now = utcnow()
    p = view.programme
    organisations = programmes.organisations_by_id(session, [p.operator_id, p.city_id, *view.partner_ids])
    found, total = challenges.list_challenges(session, actor, ChallengeFilters(programme=p.id), limit=CHALLENGES_SHOWN)
    staff = challenge_can.can_create_challenge(actor, p, view.partner_ids)
    return render(
        request,
        "programmes/page.html",
        {
            "view": view,
            "p": p,
            "operator": organisations.get(p.operator_id),
            "city": organisations.get(p.city_id) if p.city_id else None,
            "partners": sorted(
                (organisations[i] for i in view.partner_ids if i in organisations), key=lambda o: o.name
            ),
            "current": view.current_phase(now),
            "timeline": programmes_web.build_timeline(view, now, rtl=i18n.is_rtl(page_language(request))),
            "challenges": found,
            "challenge_total": total,
            "may_edit": programme_can.can_edit_programme(actor, p),
            "may_write_challenge": staff,
            "now": now,
        },
    )
