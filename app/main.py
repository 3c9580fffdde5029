"""create_app(): the FastAPI application with both faces, middleware, static files and error handlers."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.accounts import api as accounts_api
from app.accounts import web as accounts_web
from app.api import problems
from app.api.deps import token_reads_write
from app.audit import web as audit_web
from app.challenges import api as challenges_api
from app.challenges import web as challenges_web
from app.config import get_settings
from app.datasets import api as datasets_api
from app.datasets import web as datasets_web
from app.db import WRITE_OPTION, db_slot, get_engine
from app.errors import DomainError, Forbidden
from app.jobs import runner
from app.jury import api as jury_api
from app.jury import slots_api as jury_slots_api
from app.jury import slots_web as jury_slots_web
from app.jury import staff_web as jury_staff_web
from app.jury import web as jury_web
from app.notifications import web as notifications_web
from app.pages import challenge as challenge_page
from app.pages import organisation as organisation_page
from app.pages import proposal as proposal_page
from app.pages import web as pages_web
from app.programmes import api as programmes_api
from app.programmes import web as programmes_web
from app.proposals import api as proposals_api
from app.proposals import web as proposals_web
from app.security.bodylimit import BodyLimitMiddleware, BodyRefused
from app.security.headers import SecurityHeadersMiddleware
from app.security.nul import NulFreeJson
from app.selection import decisions_api as selection_decisions_api
from app.selection import decisions_web as selection_decisions_web
from app.selection import deliberation_api, deliberation_web
from app.selection import ranking_api as selection_ranking_api
from app.selection import ranking_web as selection_ranking_web
from app.startups import api as startups_api
from app.startups import web as startups_web
from app.web import errors as web_errors
from app.web.deps import verify_csrf
from app.web.templating import render

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).with_name("static")
API_PREFIX = "/api/v1"
HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if isinstance(exc, Forbidden):
        await run_in_threadpool(audit_web.record_refusal, request, exc)
    if _is_api(request):
        return problems.from_domain_error(request, exc)
    return web_errors.domain_error_page(request, exc)


class HeadAsGet:
    """HEAD answered as GET without its body (RFC 9110 §9.3.2): the routes declare GET only, and monitoring
    tools and link checkers ask HEAD. The headers, Content-Length included, are those of the GET."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, without_body)


def _allowed_methods(request: Request) -> str | None:
    """The methods the request's path answers to. Starlette's 405 names only those of the first route that
    has the path, and the GET and the PATCH of a record are two routes. None when no route says (a mount)."""
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    allowed = [
        method
        for method in HTTP_METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return ", ".join(allowed) or None


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, BodyRefused):
        return await _domain_error(request, exc.error)
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = allowed
    if _is_api(request) or request.url.path in ("/openapi.json", "/healthz"):
        return problems.problem_response(exc.status_code, str(exc.detail), str(exc.detail), headers=headers)
    page = web_errors.http_error_page(request, exc.status_code)
    if "Allow" in headers:
        page.headers["Allow"] = headers["Allow"]
    return page


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_api(request):
        return problems.from_validation_error(request, exc)
    return web_errors.http_error_page(request, 400)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _is_api(request):
        return problems.problem_response(500, "Internal server error", "Something went wrong on our side.")
    return web_errors.http_error_page(request, 500)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from app.files import staging

    i18n.compile_catalogues()
    staging.sweep_temporary_files()
    stop_jobs = runner.start_in_process() if get_settings().jobs_in_process else None
    try:
        yield
    finally:
        if stop_jobs is not None:
            stop_jobs()


def _api_router() -> APIRouter:
    api = APIRouter(prefix=API_PREFIX, responses=problems.PROBLEM_RESPONSES, dependencies=[Depends(token_reads_write)])
    api.include_router(accounts_api.router, tags=["accounts"])
    api.include_router(programmes_api.router, tags=["programmes"])
    api.include_router(challenges_api.router, tags=["challenges"])
    api.include_router(datasets_api.router, tags=["datasets"])
    api.include_router(proposals_api.router, tags=["proposals"])
    api.include_router(startups_api.router, tags=["startups"])
    api.include_router(jury_api.router, tags=["jury"])
    api.include_router(jury_slots_api.router, tags=["jury"])
    api.include_router(selection_decisions_api.router, tags=["selection"])
    api.include_router(selection_ranking_api.router, tags=["selection"])
    api.include_router(deliberation_api.router, tags=["selection"])  # the jury's deliberation
    return api


def _web_router() -> APIRouter:
    web = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
    web.include_router(accounts_web.router)
    web.include_router(programmes_web.router)
    web.include_router(challenges_web.router)
    web.include_router(datasets_web.router)
    web.include_router(proposals_web.router)
    web.include_router(jury_web.router)
    web.include_router(jury_staff_web.router)
    web.include_router(deliberation_web.router)  # the jury's deliberation, beside the jury's pages
    web.include_router(selection_ranking_web.router)  # the round's ranking, its CSV
    web.include_router(startups_web.router)
    web.include_router(jury_slots_web.router)
    web.include_router(selection_decisions_web.router)
    web.include_router(notifications_web.router)
    web.include_router(audit_web.router)
    web.include_router(pages_web.router)  # after the domains: /programmes/new before /programmes/{slug}

    @web.get("/docs", response_class=HTMLResponse)
    def api_docs(request: Request) -> Response:
        return render(request, "pages/api_docs.html")

    return web


def create_app() -> FastAPI:
    settings = get_settings()
    i18n.compile_catalogues()
    challenge_page.install()
    organisation_page.install()
    proposal_page.install()
    app = FastAPI(
        title="Medina API",
        version="1",
        summary="Open-innovation challenges for cities: programmes, challenges, datasets, proposals.",
        description="Authenticate with `Authorization: Bearer <token>`; create tokens on your account page. "
        "Errors are RFC 9457 problem details.",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.add_middleware(NulFreeJson)  # innermost: inside the body limit
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HeadAsGet)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get(
        "/healthz",
        tags=["health"],
        summary="Answers 200 when the database answers",
        responses={503: {"description": "The database does not answer"}},
    )
    async def healthz() -> JSONResponse:
        def ping() -> None:
            with get_engine().connect() as connection:
                connection.execution_options(**{WRITE_OPTION: False}).execute(text("SELECT 1"))

        try:
            async with db_slot():
                await run_in_threadpool(ping)
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    app.include_router(_api_router())
    app.include_router(_web_router())
    app.state.settings = settings
    return app
