"""The demo: organisations modelled on DataCity Casablanca 2017 and one account per kind of user.

The demo password is public (printed by `make run`); never load the demo on a production database.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.models import Organisation, OrgKind, Role, User
from app.challenges.models import ChallengeStatus
from app.db import utcnow
from app.security.passwords import hash_password

DEMO_PASSWORD = "casablanca-demo-2017"  # noqa: S105  (public on purpose)

ORGANISATIONS = [
    # slug, name, kind, city, country, website
    ("technopark", "Technopark Casablanca", OrgKind.operator, "Casablanca", "MA", "https://www.technopark.ma"),
    ("casablanca", "Ville de Casablanca", OrgKind.city, "Casablanca", "MA", None),
    ("casa-tram", "RATP Dev Casablanca / Casa Tram", OrgKind.partner, "Casablanca", "MA", None),
    ("lydec", "Lydec", OrgKind.partner, "Casablanca", "MA", "https://www.lydec.ma"),
    ("inwi", "inwi", OrgKind.partner, "Casablanca", "MA", "https://www.inwi.ma"),
    ("michelin", "Michelin", OrgKind.partner, "Casablanca", "MA", None),
    ("lafargeholcim", "LafargeHolcim Maroc", OrgKind.partner, "Casablanca", "MA", None),
    ("wayz", "Wayz Mobility (demo startup)", OrgKind.startup, "Casablanca", "MA", None),
    ("aquasense", "AquaSense (demo startup)", OrgKind.startup, "Rabat", "MA", None),
]

ACCOUNTS = [
    # email, name, organisation slug, role, platform admin
    ("admin@medina.test", "Platform Admin", None, None, True),
    ("operator@medina.test", "Salma Operator (Technopark)", "technopark", Role.admin, False),
    ("city@medina.test", "Youssef City (Casablanca)", "casablanca", Role.admin, False),
    ("lydec@medina.test", "Nadia Lydec", "lydec", Role.admin, False),
    ("tram@medina.test", "Karim Casa Tram", "casa-tram", Role.member, False),
    ("startup@medina.test", "Amine Wayz", "wayz", Role.admin, False),
    ("startup2@medina.test", "Leila AquaSense", "aquasense", Role.admin, False),
    ("startup3@medina.test", "Omar AquaSense", "aquasense", Role.member, False),
]

AQUASENSE_PROFILE = {
    "legal_form": "SARL",
    "founding_year": 2015,
    "team_size": 6,
    "sectors": ["eau", "IoT", "données"],
    "description": "AquaSense écoute les réseaux d'eau : des capteurs acoustiques et un modèle qui entend "
    "les fuites tôt.",
}
AQUASENSE_DRAFT = {
    "title": "Entendre les fuites avant qu'elles n'apparaissent",
    "summary": "Des capteurs acoustiques sur les vannes de Lydec et un modèle entraîné sur les pressions du réseau.",
    "description": "Douze capteurs acoustiques bon marché sur les vannes d'un secteur, et un modèle qui "
    "signale les fuites.",
}


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
    demo_hash: str | None = None  # the demo's one password, hashed once: nothing is committed before the end
    for email, name, member_of, role, is_admin in ACCOUNTS:
        user = accounts.get_user_by_email(session, email)
        if user is None:
            demo_hash = demo_hash or hash_password(DEMO_PASSWORD)
            user = accounts.create_user(
                session,
                email=email,
                name=name,
                password=DEMO_PASSWORD,
                is_platform_admin=is_admin,
                password_hash=demo_hash,
            )
            created_users += 1
        if member_of and role:
            accounts.add_membership(session, user, organisations[member_of], role)
    session.flush()
    return DemoResult(created_users=created_users, created_organisations=created_orgs)


def load_proposals(session: Session) -> None:
    """AquaSense's profile and a draft proposal to the water-leaks challenge, written by its two members, and
    the closed street-lighting call (idempotent). Needs the demo programme imported."""
    from app.challenges.models import Challenge
    from app.proposals import service as proposals
    from app.proposals.models import Proposal
    from app.proposals.schemas import ProposalCreate
    from app.startups import service as startups
    from app.startups.schemas import ProfileUpdate

    leila = accounts.get_user_by_email(session, "startup2@medina.test")
    challenge = session.exec(select(Challenge).where(Challenge.slug == "fuites-reseau-eau")).first()
    if leila is None or challenge is None:
        return
    actor = accounts.build_actor(session, leila, ip=None)
    organisation = next(o for o in accounts.list_organisations(session, actor) if o.slug == "aquasense")
    profile = startups.profile_of(session, organisation.id or 0)
    if profile.id is None:
        startups.update_profile(session, actor, organisation, profile, ProfileUpdate(**AQUASENSE_PROFILE))
    exists = session.exec(
        select(Proposal.id).where(Proposal.challenge_id == challenge.id, Proposal.startup_id == organisation.id)
    ).first()
    if exists is None and challenge.status == ChallengeStatus.published:
        proposals.create_proposal(session, actor, ProposalCreate(challenge=challenge.id or 0, **AQUASENSE_DRAFT))
    load_closed_call(session)


# The proposals that demo startups submitted to the closed street-lighting call, by the submitting account:
# how many days before the deadline, and their content (French, like the demo programme).
LIGHTING_PROPOSALS = Path(__file__).with_name("demo_lighting.json")


def load_closed_call(session: Session) -> None:
    """The street-lighting challenge's call is over (its deadline is in the programme's files): Wayz and
    AquaSense submitted proposals before it, and the city found Wayz's eligible, so that the sponsors' side
    after the deadline shows at once (idempotent). The submissions are history, loaded through the proposals
    service at the times they happened; the eligibility decision is taken now, after the deadline."""
    from app.challenges.models import Challenge
    from app.proposals import records as proposal_records
    from app.proposals import service as proposals
    from app.proposals.models import Proposal, ProposalStatus
    from app.proposals.schemas import EligibilityDecision, ProposalCreate

    challenge = session.exec(select(Challenge).where(Challenge.slug == "eclairage-hay-hassani")).first()
    if challenge is None or challenge.status != ChallengeStatus.published:
        return
    for email, submitted in json.loads(LIGHTING_PROPOSALS.read_text(encoding="utf-8")).items():
        days_before, content = submitted["days_before"], submitted["content"]
        user = accounts.get_user_by_email(session, email)
        if user is None:
            continue
        actor = accounts.build_actor(session, user, ip=None)
        startup_ids = actor.organisation_ids(OrgKind.startup)
        if session.exec(
            select(Proposal.id).where(Proposal.challenge_id == challenge.id, col(Proposal.startup_id).in_(startup_ids))
        ).first():
            continue
        then = challenge.deadline - timedelta(days=days_before)
        view = proposals.create_proposal(
            session, actor, ProposalCreate(challenge=challenge.id or 0, **content), now=then
        )
        view = proposal_records.get_proposal(session, actor, view.proposal.id or 0, now=then)
        proposals.submit_proposal(session, actor, view, accept_terms=True, now=then)
    city = accounts.get_user_by_email(session, "city@medina.test")
    wayz = session.exec(
        select(Proposal)
        .join(Organisation, col(Organisation.id) == Proposal.startup_id)
        .where(Proposal.challenge_id == challenge.id, Organisation.slug == "wayz")
    ).first()
    if (
        city is not None
        and wayz is not None
        and wayz.status == ProposalStatus.submitted
        and utcnow() >= challenge.deadline
    ):
        actor = accounts.build_actor(session, city, ip=None)
        view = proposal_records.get_proposal(session, actor, wayz.id or 0)
        proposals.decide_eligibility(session, actor, view, EligibilityDecision(eligible=True))


def describe() -> str:
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD}):"]
    for email, name, slug, role, is_admin in ACCOUNTS:
        what = "platform admin" if is_admin else f"{role} of {slug}"
        lines.append(f"  {email:<24} {name} — {what}")
    return "\n".join(lines)
