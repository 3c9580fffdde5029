"""Who may do what with accounts and organisations: small pure predicates, deny by default.

Services call them to enforce; templates call them to show or hide actions.
"""

from app.accounts.models import Organisation, OrgKind, Role
from app.security.actor import Actor


def is_platform_admin(actor: Actor) -> bool:
    return actor.is_authenticated and bool(actor.user and actor.user.is_platform_admin)


def is_operator_staff(actor: Actor) -> bool:
    return actor.is_authenticated and bool(actor.organisation_ids(OrgKind.operator))


def has_scope(actor: Actor, scope: str) -> bool:
    """A browser session has every scope; an API token only those it was given (write implies read)."""
    if actor.scopes is None:
        return True
    return scope in actor.scopes or (scope == "read" and "write" in actor.scopes)


def is_member_of(actor: Actor, organisation: Organisation) -> bool:
    return actor.is_authenticated and actor.role_in(organisation.id or 0) is not None


def is_admin_of(actor: Actor, organisation: Organisation) -> bool:
    return actor.is_authenticated and actor.role_in(organisation.id or 0) == Role.admin


def can_create_organisation(actor: Actor) -> bool:
    return is_platform_admin(actor) or is_operator_staff(actor)


def can_list_organisations(actor: Actor) -> bool:
    return is_platform_admin(actor) or is_operator_staff(actor)


def can_view_organisation(actor: Actor, organisation: Organisation) -> bool:
    return is_member_of(actor, organisation) or can_list_organisations(actor)


def can_manage_members(actor: Actor, organisation: Organisation) -> bool:
    """Invite people, change roles, remove members. The operator runs city, partner and operator staff;
    a startup's members are managed by the startup's own admins (and platform admins)."""
    if is_platform_admin(actor) or is_admin_of(actor, organisation):
        return True
    return is_operator_staff(actor) and organisation.kind != OrgKind.startup


def can_manage_users(actor: Actor) -> bool:
    return is_platform_admin(actor)


def can_read_audit(actor: Actor) -> bool:
    return is_platform_admin(actor)
