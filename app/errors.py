"""Domain errors raised by services; each face (HTML, API) turns them into its own kind of answer.

Messages are English message ids with %(name)s variables, translated when the answer is rendered.
"""

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str | None = None, **variables: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.variables = variables


class NotFound(DomainError):
    """The record does not exist, or the caller may not know that it exists."""

    status = 404
    title = "Not found"

    def __init__(self, detail: str | None = None, **variables: Any) -> None:
        super().__init__(detail or "This page does not exist or you do not have access to it.", **variables)


class Unauthenticated(DomainError):
    status = 401
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Invalid(DomainError):
    """Input that breaks a rule; `errors` maps a field name to its message id and `field_variables` a field name
    to the variables of its message, which both faces substitute. A service's Invalid gives one set of variables
    for all its messages (the keyword arguments); one made from pydantic's errors gives each its own."""

    status = 422
    title = "Invalid input"

    def __init__(
        self,
        errors: dict[str, str],
        detail: str | None = None,
        *,
        field_variables: dict[str, dict[str, Any]] | None = None,
        **variables: Any,
    ) -> None:
        super().__init__(detail or "Please correct the errors below.", **variables)
        self.errors = errors
        if field_variables is None:
            field_variables = {name: dict(variables) for name in errors}
        self.field_variables = field_variables


class PreconditionFailed(DomainError):
    """The record changed since the caller read it (an If-Match or a form's version that is no longer current)."""

    status = 412
    title = "Precondition failed"


class RateLimited(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int, **variables: Any) -> None:
        super().__init__(detail, minutes=max(1, (retry_after + 59) // 60), **variables)
        self.retry_after = retry_after
