"""Every registered route × every role → the expected status. A route missing here fails the suite.

Roles: anonymous, startup (admin of startup A, whose records are the targets), other_startup (admin of
startup B), sponsor (admin of partner P), other_sponsor (admin of partner Q), operator (member of the
operator organisation), platform_admin. Jurors arrive with the jury domain. HTML requests carry a valid
CSRF token and Origin; API requests a write-scoped bearer token (none for anonymous).
"""

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

import tests.matrix
from app.accounts import auth
from app.accounts.models import Invitation, Membership
from app.challenges.models import Challenge, ChallengeTerms
from app.db import utcnow
from app.main import create_app
from app.notifications.models import OutboxMessage
from app.programmes.models import Programme, ProgrammePartner
from tests.conftest import csrf_token

ROLES = ("anonymous", "startup", "other_startup", "sponsor", "other_sponsor", "operator", "platform_admin")


def expect(default: int, **per_role: int) -> dict[str, int]:
    unknown = set(per_role) - set(ROLES)
    assert not unknown, unknown
    return {role: per_role.get(role, default) for role in ROLES}


def signed_in(ok: int, *, anonymous: int = 303) -> dict[str, int]:
    return expect(ok, anonymous=anonymous)


def members_of_a(ok: int, *, operator: int, outsider: int = 404) -> dict[str, int]:
    return expect(outsider, anonymous=303, startup=ok, operator=operator, platform_admin=ok)


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
    ("POST", "/account/tokens"): ({}, signed_in(422)),
    ("POST", "/account/tokens/{token_id}/revoke"): ({}, expect(404, anonymous=303, startup=303)),
    ("GET", "/organisations"): (None, signed_in(200)),
    ("GET", "/organisations/new"): (None, expect(404, anonymous=303, operator=200, platform_admin=200)),
    ("POST", "/organisations/new"): ({}, expect(404, anonymous=303, operator=422, platform_admin=422)),
    ("GET", "/organisations/{slug}"): (None, members_of_a(200, operator=200)),
    ("POST", "/organisations/{slug}/invitations"): ({}, members_of_a(422, operator=403)),
    ("POST", "/organisations/{slug}/invitations/{invitation_id}/revoke"): (
        {},
        members_of_a(303, operator=403),
    ),
    ("POST", "/organisations/{slug}/members/{membership_id}/role"): (
        {"role": "admin"},
        members_of_a(303, operator=403),
    ),
    ("POST", "/organisations/{slug}/members/{membership_id}/remove"): ({}, members_of_a(303, operator=403)),
    ("GET", "/admin/users"): (None, admin_only(200)),
    ("POST", "/admin/users/{user_id}/active"): ({"active": "false"}, admin_only(303)),
    ("GET", "/admin/outbox"): (None, admin_only(200)),
    ("GET", "/admin/outbox/{message_id}"): (None, admin_only(200)),
    ("GET", "/admin/audit"): (None, admin_only(200)),
    # API
    ("GET", "/api/v1/me"): (None, expect(200, anonymous=401)),
    ("GET", "/api/v1/tokens"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/tokens"): ({"name": "ci"}, expect(201, anonymous=401)),
    ("GET", "/api/v1/tokens/{token_id}"): (None, expect(404, anonymous=401, startup=200)),
    ("DELETE", "/api/v1/tokens/{token_id}"): (None, expect(404, anonymous=401, startup=204)),
    ("GET", "/api/v1/organisations"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/organisations"): (
        {"kind": "partner", "name": "New partner"},
        expect(403, anonymous=401, operator=201, platform_admin=201),
    ),
    ("GET", "/api/v1/organisations/{organisation_id}"): (
        None,
        expect(404, anonymous=401, startup=200, operator=200, platform_admin=200),
    ),
    ("POST", "/api/v1/organisations/{organisation_id}/invitations"): (
        {"email": "new.person@example.org"},
        expect(404, anonymous=401, startup=201, operator=403, platform_admin=201),
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


def test_every_route_is_in_the_matrix():
    missing = registered_routes() - set(MATRIX)
    assert not missing, f"routes without a permission-matrix entry: {sorted(missing)}"
    stale = set(MATRIX) - registered_routes()
    assert not stale, f"matrix entries for routes that no longer exist: {sorted(stale)}"


@dataclass
class World:
    users: dict
    params: dict
    organisations: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)


@pytest.fixture
def world(db, make) -> World:
    startup_a = make.organisation("startup")
    organisations = {
        kind: make.organisation(kind.split("_")[-1] if kind != "startup_b" else "startup")
        for kind in ("startup_b", "partner", "other_partner", "operator")
    }
    users = {
        "startup": make.user(organisation=startup_a, role="admin"),
        "other_startup": make.user(organisation=organisations["startup_b"], role="admin"),
        "sponsor": make.user(organisation=organisations["partner"], role="admin"),
        "other_sponsor": make.user(organisation=organisations["other_partner"], role="admin"),
        "operator": make.user(organisation=organisations["operator"], role="member"),
        "platform_admin": make.user(platform_admin=True),
    }
    organisations["startup"] = startup_a
    # a programme run by the operator with the sponsor as partner, and a published challenge it leads
    programme = Programme(slug="matrix-programme", name="Matrix programme", operator_id=organisations["operator"].id)
    db.add(programme)
    db.flush()
    db.add(ProgrammePartner(programme_id=programme.id, organisation_id=organisations["partner"].id))
    challenge = Challenge(
        programme_id=programme.id,
        lead_sponsor_id=organisations["partner"].id,
        slug="tram-ridership",
        title="Tram ridership",
        summary="Grow tram ridership with better feeder buses.",
        problem="Riders.",
        themes=["mobility"],
        deadline=utcnow() + timedelta(days=30),
        status="published",
        published_at=utcnow(),
    )
    db.add(challenge)
    db.flush()
    db.add(ChallengeTerms(challenge_id=challenge.id, version=1, ip_terms="IP stays with the startup."))
    colleague = make.user(organisation=startup_a, role="member")
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


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_each_role_as_expected(client, db, make, world, route, role):
    method, template = route
    body, expected = MATRIX[route]
    if callable(body):
        body = body(world.params)
    path = template.format(**world.params)
    headers = {"Accept-Language": "en"}
    user = world.users.get(role)
    if template.startswith("/api/"):
        if user is not None:
            headers["Authorization"] = f"Bearer {make.token(user, 'write')[1]}"
        response = client.request(method, path, json=body, headers=headers)
    else:
        if user is not None:
            client.cookies.set("medina_session", auth.start_session(db, user, ip=None, user_agent=None).key)
        if method == "GET":
            response = client.get(path, headers=headers)
        else:
            data = {"csrf_token": csrf_token(client, "/password/forgot"), **(body or {})}
            response = client.request(method, path, data=data, headers={**headers, "Origin": "http://testserver"})
    assert response.status_code == expected[role], f"{method} {path} as {role}: {response.text[:300]}"
    if response.status_code == 404 and template.startswith("/api/"):
        assert response.json()["detail"] == "This page does not exist or you do not have access to it."
