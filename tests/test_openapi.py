"""schemathesis against /openapi.json, in-process: no 5xx, and every answer matches the documented schema.

`positive_data_acceptance` is left out for one reason: a list's `cursor` is opaque, so a random string is
schema-valid but still (rightly) refused with 422; every other default check runs.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance


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
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()


@pytest.mark.slow
def test_proposal_api_conforms_to_its_schema_for_a_startup(app, db, make):
    """The proposal endpoints, as a startup member with an open challenge and a draft of its own, so that the
    random cases reach the service instead of stopping at a 403 or a 404."""
    from datetime import timedelta

    from app.challenges.models import Challenge, ChallengeTerms
    from app.db import utcnow
    from app.programmes.models import Programme
    from app.proposals import service
    from app.proposals.schemas import ProposalCreate

    operator = make.organisation("operator")
    programme = Programme(slug="fuzz", name="Fuzz", operator_id=operator.id)
    db.add(programme)
    db.flush()
    challenge = Challenge(
        programme_id=programme.id,
        lead_sponsor_id=make.organisation("partner").id,
        slug="fuzz",
        title="Fuzz",
        summary="Fuzz.",
        deadline=utcnow() + timedelta(days=5),
        status="published",
    )
    db.add(challenge)
    db.flush()
    db.add(ChallengeTerms(challenge_id=challenge.id, version=1, ip_terms="Terms."))
    user, _ = make.member("startup", role="admin")
    service.create_proposal(db, make.actor(user), ProposalCreate(challenge=challenge.id, title="Draft"))
    _, secret = make.token(user, "write")
    db.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations() if "/proposal" in r.ok().path]
    assert len(operations) >= 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
