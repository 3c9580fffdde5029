"""Who sees a prototyping project: its startup's members and the staff of its challenge (its sponsors' members,
its programme operator's, platform admins); everyone else may not know it exists (404)."""

from app.accounts.models import OrgKind
from app.security.actor import Actor


def is_project_startup(actor: Actor, startup_id: int) -> bool:
    return actor.is_authenticated and startup_id in actor.organisation_ids(OrgKind.startup)


def can_view_project(actor: Actor, startup_id: int, *, staff: bool) -> bool:
    return staff or is_project_startup(actor, startup_id)
