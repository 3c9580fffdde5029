"""Who may do what with programmes. Programmes and their calendars are public."""

from app.accounts.permissions import is_platform_admin
from app.programmes.models import Programme
from app.security.actor import Actor


def is_programme_operator(actor: Actor, programme: Programme) -> bool:
    return actor.is_authenticated and actor.role_in(programme.operator_id) is not None


def is_programme_staff(actor: Actor, programme: Programme, partner_ids: set[int]) -> bool:
    """Staff of the operator, the city or a partner of the programme."""
    if not actor.is_authenticated:
        return False
    organisations = {programme.operator_id, *partner_ids} | ({programme.city_id} if programme.city_id else set())
    return bool(actor.organisation_ids() & organisations)


def can_view_programme(actor: Actor, programme: Programme) -> bool:
    return True


def can_create_programme(actor: Actor) -> bool:
    return is_platform_admin(actor) or bool(actor.is_authenticated and actor.organisation_ids("operator"))


def can_edit_programme(actor: Actor, programme: Programme) -> bool:
    return is_platform_admin(actor) or is_programme_operator(actor, programme)
