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
