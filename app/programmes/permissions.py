"""Who may do what with programmes. Programmes and their calendars are public.

A rule that also filters lists has its SQL form beside its predicate (operated_programmes beside
is_programme_operator, staffed_programmes beside is_programme_staff), tested to agree in
tests/test_rule_agreement.py.
"""

from sqlalchemy import ColumnElement, false, or_
from sqlmodel import col, select

from app.accounts.models import Organisation, OrgKind
from app.accounts.permissions import is_platform_admin
from app.programmes.models import Programme, ProgrammePartner
from app.security.actor import Actor


def is_programme_operator(actor: Actor, programme: Programme) -> bool:
    return actor.is_authenticated and actor.role_in(programme.operator_id) is not None


def operated_programmes(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of is_programme_operator."""
    if not actor.is_authenticated or not actor.organisation_ids():
        return false()
    return col(Programme.operator_id).in_(actor.organisation_ids())


def is_programme_staff(actor: Actor, programme: Programme, partner_ids: set[int]) -> bool:
    """Staff of the operator, the city or a partner of the programme."""
    if not actor.is_authenticated:
        return False
    organisations = {programme.operator_id, *partner_ids} | ({programme.city_id} if programme.city_id else set())
    return bool(actor.organisation_ids() & organisations)


def staffed_programmes(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of is_programme_staff."""
    if not actor.is_authenticated or not actor.organisation_ids():
        return false()
    mine = actor.organisation_ids()
    partnered = select(ProgrammePartner.programme_id).where(col(ProgrammePartner.organisation_id).in_(mine))
    return or_(col(Programme.operator_id).in_(mine), col(Programme.city_id).in_(mine), col(Programme.id).in_(partnered))


def can_view_programme(actor: Actor, programme: Programme) -> bool:
    return True


def can_create_programme(actor: Actor) -> bool:
    return is_platform_admin(actor) or bool(actor.is_authenticated and actor.organisation_ids(OrgKind.operator))


def can_run_programme_for(actor: Actor, operator_id: int) -> bool:
    """Operator staff create programmes for their own operator organisation; platform admins for any."""
    return is_platform_admin(actor) or (
        actor.is_authenticated and operator_id in actor.organisation_ids(OrgKind.operator)
    )


def can_be_operator(organisation: Organisation) -> bool:
    return organisation.kind == OrgKind.operator


def can_be_city(organisation: Organisation) -> bool:
    return organisation.kind == OrgKind.city


def can_be_partner(organisation: Organisation) -> bool:
    return organisation.kind == OrgKind.partner


def can_edit_programme(actor: Actor, programme: Programme) -> bool:
    return is_platform_admin(actor) or is_programme_operator(actor, programme)
