"""Who may see and change a startup's profile: small pure predicates, deny by default.

The profile is seen by whoever may see the organisation (its members and platform admins; operator staff see
no startup this way) and, through the proposals, by the staff of challenges the startup submitted to, once
their deadline has passed.
The startup's admins (and platform admins) edit it; its members may read it.
"""

from app.accounts.models import Organisation, OrgKind
from app.accounts.permissions import can_view_organisation, is_admin_of, is_platform_admin
from app.security.actor import Actor


def has_profile(organisation: Organisation) -> bool:
    return organisation.kind == OrgKind.startup


def can_view_profile(actor: Actor, organisation: Organisation) -> bool:
    return has_profile(organisation) and can_view_organisation(actor, organisation)


def can_view_logo(actor: Actor, organisation: Organisation) -> bool:
    """The logo goes with the startup's name wherever it is shown to a signed-in user (proposal pages, lists)."""
    return has_profile(organisation) and actor.is_authenticated


def can_edit_profile(actor: Actor, organisation: Organisation) -> bool:
    return has_profile(organisation) and (is_platform_admin(actor) or is_admin_of(actor, organisation))
