"""Who may read the email outbox."""

from app.accounts.permissions import is_platform_admin
from app.security.actor import Actor


def can_read_outbox(actor: Actor) -> bool:
    return is_platform_admin(actor)
