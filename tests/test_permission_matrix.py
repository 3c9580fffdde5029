"""Every registered route × every role → the expected status. A route missing here fails the suite.

Roles: see tests/matrix/__init__.py (startup A's admin and a plain member, another startup, the challenge's
sponsor, another partner, a member and an admin of the programme's operator, a member of an unrelated
operator, a platform admin; and the jury's: a juror from a partner that sponsors nothing, a juror conflicted
with startup A by email domain, a juror of another round only, an outside expert invited by email). HTML
requests carry a valid CSRF token and Origin; API requests a write-scoped bearer token (none for anonymous).
The world is built once per module (see Stage), with each role's signed-in session and write token, and a CSRF
cookie and its form token as a browser holds them after any page; each (route, role) case runs in a savepoint
rolled back after it, so what a case does to them (a sign-out, a revoked token) is undone before the next.
"""

import importlib
import pkgutil
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, Engine
from sqlmodel import Session
from starlette.routing import Mount

import tests.matrix
from app.accounts import auth
from app.accounts.models import Invitation, Membership
from app.api import deps as api_deps
from app.config import get_settings
from app.db import utcnow
from app.files import staging
from app.main import create_app
from app.notifications.models import OutboxMessage
from app.security import csrf
from app.security.tokens import new_secret, sign
from tests import factories
from tests.conftest import UnitOfWork, unit_of_work
from tests.matrix import CONFIRMED, ROLES, expect


def signed_in(ok: int, *, anonymous: int = 303) -> dict[str, int]:
    return expect(ok, anonymous=anonymous)


def members_of_a(ok: int, *, member: int | None = None, outsider: int = 404) -> dict[str, int]:
    """Startup A's own pages: its admins and platform admins; a plain member gets `member`; everyone else,
    operator staff included, may not know the startup's member records exist."""
    return expect(
        outsider, anonymous=303, startup=ok, startup_member=ok if member is None else member, platform_admin=ok
    )


def admin_only(ok: int, *, anonymous: int = 303) -> dict[str, int]:
    return expect(404, anonymous=anonymous, platform_admin=ok)


# (method, path) → (body, expected statuses). Bodies are forms for HTML routes and JSON for the API.
MATRIX: dict[tuple[str, str], tuple[dict | None, dict[str, int]]] = {
    ("GET", "/healthz"): (None, expect(200)),
    ("GET", "/openapi.json"): (None, expect(200)),
    ("GET", "/docs"): (None, expect(200)),
    ("GET", "/"): (None, expect(200)),
    ("GET", "/register"): (None, expect(303, anonymous=200)),
    ("POST", "/register"): ({}, expect(422)),
    ("GET", "/register/sent"): (None, expect(200)),
    ("GET", "/email/confirm/{secret}"): (None, expect(404)),
    ("POST", "/email/confirm/{secret}"): ({}, expect(404)),
    ("GET", "/login"): (None, expect(303, anonymous=200)),
    ("POST", "/login"): ({}, expect(422)),
    ("POST", "/logout"): ({}, expect(303)),
    ("POST", "/language"): ({"language": "ar"}, expect(303)),
    ("GET", "/password/forgot"): (None, expect(200)),
    ("POST", "/password/forgot"): ({}, expect(422)),
    ("GET", "/password/reset/{secret}"): (None, expect(404)),
    ("POST", "/password/reset/{secret}"): ({"password": "long-enough-pass"}, expect(404)),
    ("GET", "/invitations/{secret}"): (None, expect(404)),
    ("POST", "/invitations/{secret}"): ({}, expect(404)),
    ("GET", "/account"): (None, signed_in(200)),
    ("POST", "/account"): ({}, signed_in(422)),
    ("POST", "/account/password"): ({}, signed_in(422)),
    ("POST", "/account/tokens"): ({}, signed_in(422)),
    ("POST", "/account/tokens/{token_id}/revoke"): (
        CONFIRMED,
        expect(404, anonymous=303, startup=303, startup_member=404),
    ),
    ("GET", "/organisations"): (None, signed_in(200)),
    ("GET", "/organisations/new"): (
        None,
        expect(404, anonymous=303, operator=200, unrelated_operator=200, platform_admin=200),
    ),
    ("POST", "/organisations/new"): (
        {},
        expect(404, anonymous=303, operator=422, unrelated_operator=422, platform_admin=422),
    ),
    ("GET", "/organisations/{slug}"): (None, members_of_a(200)),
    ("POST", "/organisations/{slug}/invitations"): ({}, members_of_a(422, member=403)),
    ("POST", "/organisations/{slug}/invitations/{invitation_id}/revoke"): (CONFIRMED, members_of_a(303, member=403)),
    # the target is startup A's plain member: its admin may make it an admin; it may not promote itself
    ("POST", "/organisations/{slug}/members/{membership_id}/role"): ({"role": "admin"}, members_of_a(303, member=403)),
    ("POST", "/organisations/{slug}/members/{membership_id}/remove"): (CONFIRMED, members_of_a(303, member=403)),
    ("GET", "/admin/users"): (None, admin_only(200)),
    ("POST", "/admin/users/{user_id}/active"): ({"active": "false"}, admin_only(303)),
    ("GET", "/admin/outbox"): (None, admin_only(200)),
    ("GET", "/admin/outbox/{message_id}"): (None, admin_only(200)),
    ("GET", "/admin/audit"): (None, admin_only(200)),
    # API
    ("GET", "/api/v1/me"): (None, expect(200, anonymous=401)),
    ("GET", "/api/v1/tokens"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/tokens"): ({"name": "ci"}, expect(201, anonymous=401)),
    ("GET", "/api/v1/tokens/{token_id}"): (None, expect(404, anonymous=401, startup=200, startup_member=404)),
    ("DELETE", "/api/v1/tokens/{token_id}"): (None, expect(404, anonymous=401, startup=204, startup_member=404)),
    ("GET", "/api/v1/organisations"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/organisations"): (
        {"kind": "partner", "name": "New partner", "admin_email": "first.admin@new-partner.example"},
        expect(403, anonymous=401, operator=201, unrelated_operator=201, platform_admin=201),
    ),
    ("GET", "/api/v1/organisations/{organisation_id}"): (
        None,
        expect(404, anonymous=401, startup=200, startup_member=200, platform_admin=200),
    ),
    ("POST", "/api/v1/organisations/{organisation_id}/invitations"): (
        {"email": "new.person@example.org", "role": "admin"},
        expect(404, anonymous=401, startup=201, startup_member=403, platform_admin=201),
    ),
}


MATRIX_MODULES = [
    importlib.import_module(f"tests.matrix.{module.name}") for module in pkgutil.iter_modules(tests.matrix.__path__)
]
for _module in MATRIX_MODULES:
    overlap = set(MATRIX) & set(_module.ENTRIES)
    assert not overlap, f"{_module.__name__} repeats entries: {overlap}"
    MATRIX.update(_module.ENTRIES)


def registered_routes() -> set[tuple[str, str]]:
    routes = set()
    for route in iter_route_contexts(create_app().routes):
        if isinstance(route.original_route, Mount):
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                routes.add((method, route.path))
    return routes


def _shape(route: tuple[str, str]) -> tuple[str, str]:
    """A route with its parameters unnamed: an entry may be a variant of a route with other records
    (`/datasets/{registered_dataset_id}` is `/datasets/{dataset_id}` on a dataset for registered users)."""
    return route[0], re.sub(r"\{[^}]*\}", "{}", route[1])


def test_every_route_is_in_the_matrix():
    missing = registered_routes() - set(MATRIX)
    assert not missing, f"routes without a permission-matrix entry: {sorted(missing)}"
    shapes = {_shape(route) for route in registered_routes()}
    stale = {route for route in MATRIX if _shape(route) not in shapes}
    assert not stale, f"matrix entries for routes that no longer exist: {sorted(stale)}"


@dataclass
class World:
    """The records every case acts on. `users`, `organisations` and `objects` are the rows as built, for
    extend_world; a case signs in as its role with `session_keys` (HTML) or `api_tokens` (API), made once the
    world is built. `files`: the stored files the world wrote."""

    users: dict
    params: dict
    organisations: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)
    session_keys: dict[str, str] = field(default_factory=dict)
    api_tokens: dict[str, str] = field(default_factory=dict)
    files: dict[Path, bytes] = field(default_factory=dict)


def build_world(db: Session, make: factories.Factory) -> World:
    startup_a = make.organisation("startup")
    organisations = {
        kind: make.organisation(kind.split("_")[-1] if kind != "startup_b" else "startup")
        for kind in ("startup_b", "partner", "other_partner", "jury_partner", "operator")
    }
    # each startup's people have addresses at a domain of their own: everyone else's share example.org, which
    # would tie them all to both startups (a conflict of interest by email domain, app/jury/conflicts.py)
    users = {
        "startup": make.user("admin@startup-a.test", organisation=startup_a, role="admin"),
        "other_startup": make.user("admin@startup-b.test", organisation=organisations["startup_b"], role="admin"),
        "sponsor": make.user(organisation=organisations["partner"], role="admin"),
        "other_sponsor": make.user(organisation=organisations["other_partner"], role="admin"),
        "operator": make.user(organisation=organisations["operator"], role="member"),
        "operator_admin": make.user(organisation=organisations["operator"], role="admin"),
        "unrelated_operator": make.user(organisation=make.organisation("operator"), role="member"),
        "platform_admin": make.user(platform_admin=True),
        # the jury's (seated by tests/matrix/jury.py); the conflicted juror shares startup A's domain
        "juror": make.user(organisation=organisations["jury_partner"], role="member"),
        "conflicted_juror": make.user("adviser@startup-a.test"),
        "other_round_juror": make.user(),
        "outside_expert": make.user("expert@lab.example.net", name="Outside Expert"),
    }
    organisations["startup"] = startup_a
    # a programme run by the operator with the sponsor as partner, and a published challenge it leads
    programme = make.programme(
        organisations["operator"], partners=[organisations["partner"]], slug="matrix-programme", name="Matrix programme"
    )
    challenge = make.published_challenge(
        organisations["partner"],
        programme=programme,
        slug="tram-ridership",
        title="Tram ridership",
        summary="Grow tram ridership with better feeder buses.",
        problem="Riders.",
        themes=["mobility"],
        deadline=utcnow() + timedelta(days=30),
    )
    colleague = make.user("member@startup-a.test", organisation=startup_a, role="member")
    users["startup_member"] = colleague
    membership = next(m for m in db.exec(Membership.__table__.select()) if m.user_id == colleague.id)
    invitation = Invitation(
        token_hash="x" * 64,
        email="pending@example.org",
        organisation_id=startup_a.id,
        role="member",
        expires_at=utcnow().replace(year=2100),
    )
    message = OutboxMessage(to_address="someone@example.org", subject="Hello", body="Hi")
    db.add_all([invitation, message])
    db.flush()
    token, _ = make.token(users["startup"])
    params = {
        "slug": startup_a.slug,
        "organisation_id": startup_a.id,
        "membership_id": membership.id,
        "invitation_id": invitation.id,
        "token_id": token.id,
        "user_id": colleague.id,
        "message_id": message.id,
        "secret": "not-a-real-secret",
    }
    params.update(
        programme_slug=programme.slug,
        programme_id=programme.id,
        challenge_id=challenge.id,
        challenge_slug=challenge.slug,
    )
    world = World(
        users=users,
        params=params,
        organisations=organisations,
        objects={"programme": programme, "challenge": challenge},
    )
    for module in MATRIX_MODULES:
        if hasattr(module, "extend_world"):
            added = module.extend_world(db, make, world)
            clash = set(added) & set(world.params)
            assert not clash, f"{module.__name__} overwrites the world's parameters {clash}"
            world.params.update(added)
    return world


def stored_files() -> set[Path]:
    root = staging.files_root()
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


class Stage:
    """The world, built once per module (so once per xdist worker) in a connection-level transaction that is
    rolled back at the end, with one app and one client. Each case runs in a savepoint of that transaction,
    rolled back after it, so it starts from the world as built: rows (tokens, roles, memberships, sessions,
    sign-in attempts), stored files the case removed, cookies and the API rate-limit windows."""

    def __init__(self, connection: Connection, world: World, client: TestClient) -> None:
        self.connection = connection
        self.world = world
        self.client = client
        self.session: Session | None = None

    def request_session(self, request: Request) -> Iterator[Session]:
        """The app's unit of work, as in conftest's `app` fixture, on the current case's session."""
        assert self.session is not None, "a request outside a matrix case"
        yield from unit_of_work(request, self.session)

    @contextmanager
    def case(self) -> Iterator[Session]:
        savepoint = self.connection.begin_nested()
        self.session = Session(bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        self.client.cookies.clear()
        api_deps.limiter().reset()
        try:
            yield self.session
        finally:
            self.session.close()
            self.session = None
            savepoint.rollback()
            self._restore_files()

    def _restore_files(self) -> None:
        """A case that removes a stored file (an image, an attachment) removes it from the disk once its
        savepoint is released; the rollback brings the row back, this the file."""
        for path, content in self.world.files.items():
            if not path.is_file() or path.read_bytes() != content:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)


@pytest.fixture(scope="module")
def stage(engine: Engine, shared_app: tuple[FastAPI, UnitOfWork]) -> Iterator[Stage]:
    connection = engine.connect()
    transaction = connection.begin()
    before = stored_files()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        make = factories.Factory(db)
        world = build_world(db, make)
        for role, user in world.users.items():
            world.session_keys[role] = auth.start_session(db, user, ip=None, user_agent=None).key
            world.api_tokens[role] = make.token(user, "write")[1]
        db.commit()  # releases the build's savepoint; the world stays in the module's transaction
        db.close()
        world.files = {path: path.read_bytes() for path in stored_files() - before}
        application, unit = shared_app
        with TestClient(application, base_url="http://testserver", follow_redirects=False) as client:
            stage = Stage(connection, world, client)
            with unit.held_by(stage.request_session):
                yield stage
    finally:
        db.close()
        transaction.rollback()
        connection.close()
        for path in stored_files() - before:
            path.unlink(missing_ok=True)


# the CSRF cookie a browser holds after any page of the site, and the token its forms carry (app/security/csrf.py)
CSRF_COOKIE = new_secret()


def answer(stage: Stage, route: tuple[str, str], role: str) -> tuple[str, Response]:
    """Send the route's request as the role, in a case of its own; the path it was sent to and the answer."""
    method, template = route
    body = MATRIX[route][0]
    world = stage.world
    if callable(body):
        body = body(world.params)
    path = template.format(**world.params)
    headers = {"Accept-Language": "en"}
    client = stage.client
    with stage.case():
        if template.startswith("/api/"):
            if role in world.api_tokens:
                headers["Authorization"] = f"Bearer {world.api_tokens[role]}"
            return path, client.request(method, path, json=body, headers=headers)
        if role in world.session_keys:
            client.cookies.set("medina_session", world.session_keys[role])
        if method == "GET":
            return path, client.get(path, headers=headers)
        client.cookies.set(csrf.COOKIE, CSRF_COOKIE)
        data = {csrf.FIELD: sign(get_settings().secret_key, "csrf:" + CSRF_COOKIE), **(body or {})}
        return path, client.request(method, path, data=data, headers={**headers, "Origin": "http://testserver"})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_each_role_as_expected(stage, route, role):
    method, template = route
    expected = MATRIX[route][1][role]
    path, response = answer(stage, route, role)
    assert response.status_code == expected, (
        f"{method} {path} as {role}: expected {expected}, got {response.status_code}: {response.text[:300]}"
    )
    if response.status_code == 404 and template.startswith("/api/"):
        assert response.json()["detail"] == "This page does not exist or you do not have access to it."


# a case that changes the world, and a case after it that would answer differently if the change leaked
CHANGES_AND_WITNESSES = [
    (("POST", "/admin/users/{user_id}/active"), "platform_admin", ("GET", "/account"), "startup_member"),
    (
        ("POST", "/organisations/{slug}/members/{membership_id}/remove"),
        "startup",
        ("GET", "/organisations/{slug}"),
        "startup_member",
    ),
    (
        ("POST", "/organisations/{slug}/members/{membership_id}/role"),
        "startup",
        ("POST", "/organisations/{slug}/invitations"),
        "startup_member",
    ),
    (("DELETE", "/api/v1/tokens/{token_id}"), "startup", ("GET", "/api/v1/tokens/{token_id}"), "startup"),
    (
        ("POST", "/challenges/{challenge_id}/image/remove"),
        "sponsor",
        ("GET", "/challenges/{challenge_id}/image"),
        "anonymous",
    ),
    (
        ("POST", "/proposals/{proposal_id}/attachments/{attachment_id}/remove"),
        "startup",
        ("GET", "/proposals/{proposal_id}/attachments/{attachment_id}/download"),
        "startup",
    ),
    (
        ("POST", "/proposals/{proposal_id}/withdraw"),
        "startup",
        ("POST", "/proposals/{proposal_id}/withdraw"),
        "startup",
    ),
]


def test_each_case_starts_from_the_world_as_built(stage):
    for change, changer, witness, role in CHANGES_AND_WITNESSES:
        for route, as_role in ((change, changer), (witness, role)):
            path, response = answer(stage, route, as_role)
            expected = MATRIX[route][1][as_role]
            assert response.status_code == expected, (
                f"{route[0]} {path} as {as_role}, after {change[0]} {change[1]} as {changer}: expected {expected}, "
                f"got {response.status_code}: {response.text[:300]}"
            )
