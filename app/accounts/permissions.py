"""Who may do what with accounts and organisations: small pure predicates, deny by default.

Services call them to enforce; templates call them to show or hide actions.

An organisation's members are managed by its own admins and by platform admins, nobody else: being staff
of an operator gives authority over the programmes that operator runs (programmes, challenges and
proposals check that), never over other organisations. Nobody changes their own role. The member list,
with its emails, is shown to the organisation's members and platform admins only. Operator staff see the
directory of city, partner and operator organisations (names, kinds, websites: what the programme forms
offer them anyway); a startup is seen by its members and platform admins (its staff-facing side reaches the
challenge staff through its proposals).
"""

from sqlalchemy import ColumnElement, or_, true
from sqlmodel import col

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
    """The organisations page lists more than the actor's own: the directory (see can_view_organisation)."""
    return is_platform_admin(actor) or is_operator_staff(actor)


def in_directory(organisation: Organisation) -> bool:
    return organisation.kind != OrgKind.startup


def can_view_organisation(actor: Actor, organisation: Organisation) -> bool:
    if is_member_of(actor, organisation) or is_platform_admin(actor):
        return True
    return is_operator_staff(actor) and in_directory(organisation)


def can_view_members(actor: Actor, organisation: Organisation) -> bool:
    """The member list with names and emails."""
    return is_member_of(actor, organisation) or is_platform_admin(actor)


def can_manage_members(actor: Actor, organisation: Organisation) -> bool:
    """Invite people, revoke invitations, change roles, remove members."""
    return is_platform_admin(actor) or is_admin_of(actor, organisation)


def can_change_role(actor: Actor, organisation: Organisation, member_user_id: int) -> bool:
    """Nobody changes their own role: an admin cannot be demoted by a slip, a member cannot promote itself."""
    return can_manage_members(actor, organisation) and member_user_id != actor.user_id


def can_remove_member(actor: Actor, organisation: Organisation, member_user_id: int) -> bool:
    """Nor removes themselves from the organisation they manage (another admin does)."""
    return can_change_role(actor, organisation, member_user_id)


def must_name_first_admin(actor: Actor) -> bool:
    """Whoever creates an organisation names its first admin — nobody else could invite its staff — except a
    platform admin, who may invite them later."""
    return not is_platform_admin(actor)


def can_manage_users(actor: Actor) -> bool:
    return is_platform_admin(actor)


def can_read_audit(actor: Actor) -> bool:
    return is_platform_admin(actor)


def visible_organisations(actor: Actor) -> ColumnElement[bool]:
    """The SQL form of can_view_organisation, to filter lists (tests check that the two agree)."""
    if is_platform_admin(actor):
        return true()
    mine = col(Organisation.id).in_(actor.organisation_ids() or {-1})
    if is_operator_staff(actor):
        return or_(mine, col(Organisation.kind) != OrgKind.startup)
    return mine
