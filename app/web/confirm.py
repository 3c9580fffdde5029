"""The confirmation destructive HTML forms carry (templates/_macros/confirm.html): one rule for every face of it."""

from collections.abc import Mapping
from typing import Any

from app.errors import DomainError
from app.i18n import N_

LABEL = N_("I confirm")  # the box's label (templates/_macros/confirm.html), a global of the templates


class NotConfirmed(DomainError):
    status = 422
    title = "Tick “I confirm” to go ahead. Nothing was changed."


def require_confirmation(form: Mapping[str, Any]) -> None:
    """Refuse a destructive form sent without its confirmation box ticked (the browser asked, or the reader
    ticked it by hand without JavaScript)."""
    if form.get("confirm") != "yes":
        raise NotConfirmed()
