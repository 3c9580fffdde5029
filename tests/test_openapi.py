"""schemathesis against /openapi.json, in-process: no 5xx, and every answer matches the documented schema;
and the answers schemathesis found undocumented or wrong, checked one by one.

On every operation `positive_data_acceptance` is left out: a schema-valid body can still break a business
rule (an unknown programme, a deadline in the past) and be rightly refused with 422. The lists are checked
with it: their query parameters (`limit`, `cursor`, ids, slugs, `q`) are described exactly, so whatever the
schema allows is answered.
"""

import re
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.challenges.models import Challenge
from app.db import utcnow
from app.proposals import service as proposals
from app.proposals.schemas import ProposalCreate
from tests.dbutil import schemathesis_examples

JSON = {"Content-Type": "application/json"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _open_challenge(db, make) -> Challenge:
    return make.published_challenge(
        make.organisation("partner"), programme=make.programme(slug="fuzz"), slug="fuzz", title="Fuzz", summary="Fuzz."
    )


def _documented(client, method: str, path: str) -> set[str]:
    """The statuses /openapi.json documents for an operation."""
    return set(client.get("/openapi.json").json()["paths"][path][method.lower()]["responses"])


@pytest.mark.slow
def test_api_conforms_to_its_schema(app, db, make):
    user, _ = make.member("operator", role="admin")
    _, secret = make.token(user, "write")
    db.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=schemathesis_examples(20),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()


@pytest.mark.slow
def test_proposal_api_conforms_to_its_schema_for_a_startup(app, db, make):
    """The proposal endpoints, as a startup member with an open challenge and a draft of its own, so that the
    random cases reach the service instead of stopping at a 403 or a 404."""
    challenge = _open_challenge(db, make)
    user, _ = make.member("startup", role="admin")
    proposals.create_proposal(db, make.actor(user), ProposalCreate(challenge=challenge.id, title="Draft"))
    _, secret = make.token(user, "write")
    db.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations() if "/proposal" in r.ok().path]
    assert len(operations) >= 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=schemathesis_examples(25),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()


@pytest.mark.slow
def test_lists_accept_every_query_their_schema_allows(app, db, make):
    """`positive_data_acceptance` on the lists: any `limit`, `cursor`, id, slug or `q` the schema allows is
    answered (an empty page at worst), never refused with 422 nor failing with 500."""
    _open_challenge(db, make)
    user, _ = make.member("partner", role="admin")
    _, secret = make.token(user, "read")
    db.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [
        r.ok()
        for r in schema.get_all_operations()
        if r.ok().method == "get" and {p.name for p in r.ok().query} & {"limit", "cursor"}
    ]
    assert len(operations) >= 7
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=schemathesis_examples(40),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case) -> None:
            case.call_and_validate(headers=headers, checks=[positive_data_acceptance])

        check()


def test_a_405_names_every_method_of_the_path(client):
    """Starlette's 405 named the methods of the first route of a path only (GET, not PATCH)."""
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        response = client.options(re.sub(r"\{[^}]+\}", "1", path))
        assert response.status_code == 405, path
        methods = {m.upper() for m in operations} | ({"HEAD"} if "get" in operations else set())
        assert response.headers["allow"] == ", ".join(sorted(methods)), path
    page = client.put("/challenges/1/edit")
    assert page.status_code == 405 and page.headers["allow"] == "GET, HEAD, POST"


def test_head_answers_what_get_answers_without_the_body(client):
    """Monitoring tools and link checkers ask HEAD (it was a 405 on every page)."""
    for path in ("/", "/challenges", "/healthz", "/api/v1/challenges"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"], path
    assert client.head("/logout").status_code == 405  # a path without GET has no HEAD either


def test_a_body_that_is_not_utf8_json_is_a_documented_400(client, db, make):
    _, secret = make.token(make.user(platform_admin=True), "write")
    db.commit()
    headers = {**JSON, "Authorization": f"Bearer {secret}"}
    paths = client.get("/openapi.json").json()["paths"]
    operations = [
        (method, path)
        for path, item in paths.items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert len(operations) >= 15
    for method, path in operations:
        response = client.request(
            method, re.sub(r"\{[^}]+\}", "1", path), content=b'{"title": "\xff"}', headers=headers
        )
        assert response.status_code == 400, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "400" in paths[path][method]["responses"], (method, path)


def test_an_attachment_after_the_deadline_is_a_documented_409(client, db, make):
    challenge = _open_challenge(db, make)
    user, _ = make.member("startup", role="admin")
    draft = proposals.create_proposal(db, make.actor(user), ProposalCreate(challenge=challenge.id, title="Draft"))
    _, secret = make.token(user, "write")
    challenge.deadline = utcnow() - timedelta(minutes=1)
    db.add(challenge)
    db.commit()
    path = "/api/v1/proposals/{proposal_id}/attachments"
    response = client.post(
        path.format(proposal_id=draft.proposal.id),
        files={"file": ("deck.pdf", PDF, "application/pdf")},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 409, response.text
    assert "409" in _documented(client, "post", path)


def test_a_status_that_does_not_follow_is_a_documented_409(client, db, make):
    challenge = _open_challenge(db, make)
    user = make.user(platform_admin=True)
    _, secret = make.token(user, "write")
    db.commit()
    path = "/api/v1/challenges/{challenge_id}"
    response = client.patch(
        path.format(challenge_id=challenge.id),
        json={"status": "archived"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 409, response.text
    assert "409" in _documented(client, "patch", path)
