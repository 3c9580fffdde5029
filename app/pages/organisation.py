"""What the domains built on accounts add to an organisation's page: a startup's profile (app/startups).

The organisation page is drawn by app/accounts/web.py, which imports no domain above accounts: create_app
installs these sections into it.
"""

from sqlmodel import Session

from app.accounts import web as accounts_web
from app.accounts.models import Organisation
from app.security.actor import Actor
from app.startups import permissions as startup_can
from app.startups import service as startups


def profile_section(session: Session, actor: Actor, organisation: Organisation) -> dict[str, object]:
    if not startup_can.can_view_profile(actor, organisation):
        return {"profile": None, "may_edit_profile": False}
    return {
        "profile": startups.profile_of(session, organisation.id or 0),
        "may_edit_profile": startup_can.can_edit_profile(actor, organisation),
    }


SECTIONS: tuple[accounts_web.OrganisationSection, ...] = (profile_section,)


def install() -> None:
    """Have the organisation page draw these sections (create_app calls it)."""
    accounts_web.ORGANISATION_SECTIONS[:] = SECTIONS
