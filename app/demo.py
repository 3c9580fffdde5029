"""The demo: organisations modelled on DataCity Casablanca 2017 and one account per kind of user.

The demo password is public (printed by `make run`); never load the demo on a production database.
"""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from app.accounts import service as accounts
from app.accounts.models import User

DEMO_PASSWORD = "casablanca-demo-2017"  # noqa: S105  (public on purpose)

ORGANISATIONS = [
    # slug, name, kind, city, country, website
    ("technopark", "Technopark Casablanca", "operator", "Casablanca", "MA", "https://www.technopark.ma"),
    ("casablanca", "Ville de Casablanca", "city", "Casablanca", "MA", None),
    ("casa-tram", "RATP Dev Casablanca / Casa Tram", "partner", "Casablanca", "MA", None),
    ("lydec", "Lydec", "partner", "Casablanca", "MA", "https://www.lydec.ma"),
    ("inwi", "inwi", "partner", "Casablanca", "MA", "https://www.inwi.ma"),
    ("michelin", "Michelin", "partner", "Casablanca", "MA", None),
    ("lafargeholcim", "LafargeHolcim Maroc", "partner", "Casablanca", "MA", None),
    ("wayz", "Wayz Mobility (demo startup)", "startup", "Casablanca", "MA", None),
    ("aquasense", "AquaSense (demo startup)", "startup", "Rabat", "MA", None),
]

ACCOUNTS = [
    # email, name, organisation slug, role, platform admin
    ("admin@medina.test", "Platform Admin", None, None, True),
    ("operator@medina.test", "Salma Operator (Technopark)", "technopark", "admin", False),
    ("city@medina.test", "Youssef City (Casablanca)", "casablanca", "admin", False),
    ("lydec@medina.test", "Nadia Lydec", "lydec", "admin", False),
    ("tram@medina.test", "Karim Casa Tram", "casa-tram", "member", False),
    ("startup@medina.test", "Amine Wayz", "wayz", "admin", False),
    ("startup2@medina.test", "Leila AquaSense", "aquasense", "admin", False),
]


@dataclass
class DemoResult:
    created_users: int
    created_organisations: int


def database_is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def load(session: Session) -> DemoResult:
    """Create what is missing of the demo (idempotent: running it twice changes nothing)."""
    created_orgs = 0
    organisations = {}
    for slug, name, kind, city, country, website in ORGANISATIONS:
        organisation, created = accounts.ensure_organisation(session, slug=slug, name=name, kind=kind)
        if created:
            organisation.city, organisation.country, organisation.website = city, country, website
            session.add(organisation)
            created_orgs += 1
        organisations[slug] = organisation
    created_users = 0
    for email, name, member_of, role, is_admin in ACCOUNTS:
        user = accounts.get_user_by_email(session, email)
        if user is None:
            user = accounts.create_user(
                session, email=email, name=name, password=DEMO_PASSWORD, is_platform_admin=is_admin
            )
            created_users += 1
        if member_of and role:
            accounts.add_membership(session, user, organisations[member_of], role)
    session.flush()
    return DemoResult(created_users=created_users, created_organisations=created_orgs)


def describe() -> str:
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD}):"]
    for email, name, slug, role, is_admin in ACCOUNTS:
        what = "platform admin" if is_admin else f"{role} of {slug}"
        lines.append(f"  {email:<24} {name} — {what}")
    return "\n".join(lines)
