"""The demo: organisations modelled on DataCity Casablanca 2017 and one account per kind of user.

The demo password is public (printed by `make run`); never load the demo on a production database.
"""

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.models import Organisation, OrgKind, Role, User
from app.challenges.models import Challenge, ChallengeStatus
from app.db import utcnow
from app.security.actor import Actor
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
    ("luminour", "LumiNour (demo startup)", OrgKind.startup, "Casablanca", "MA", None),
    ("casalux", "CasaLux (demo startup)", OrgKind.startup, "Mohammedia", "MA", None),
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
    ("startup4@medina.test", "Yasmine LumiNour", "luminour", Role.admin, False),
    ("startup5@medina.test", "Hamza CasaLux", "casalux", Role.admin, False),
    ("jury@medina.test", "Hind Benali (experte invitée)", None, None, False),
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
    """AquaSense's profile and a draft proposal to the water-leaks challenge, written by its two members, the
    closed street-lighting call and the school-safety call's selection (idempotent).
    Needs the demo programme imported."""
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
    load_school_selection(session)


# The proposals that demo startups submitted to the closed street-lighting call, by the submitting account:
# how many days before the deadline, and their content (French, like the demo programme).
LIGHTING_PROPOSALS = Path(__file__).with_name("demo_lighting.json")


def load_closed_call(session: Session) -> None:
    """The street-lighting challenge's call is over (its deadline is in the programme's files): Wayz and
    AquaSense submitted proposals before it, and the city found Wayz's eligible, so that the sponsors' side
    after the deadline shows at once (idempotent). The submissions are history, loaded through the proposals
    service at the times they happened; the eligibility decision is taken now, after the deadline."""
    from app.proposals.models import Proposal, ProposalStatus

    challenge = session.exec(select(Challenge).where(Challenge.slug == "eclairage-hay-hassani")).first()
    if challenge is None or challenge.status != ChallengeStatus.published:
        return
    _submit_before_deadline(session, challenge, LIGHTING_PROPOSALS)
    city = accounts.get_user_by_email(session, "city@medina.test")
    if city is None or utcnow() < challenge.deadline:
        return
    waiting = session.exec(
        select(Proposal)
        .join(Organisation, col(Organisation.id) == Proposal.startup_id)
        .where(
            Proposal.challenge_id == challenge.id,
            Proposal.status == ProposalStatus.submitted,
            col(Organisation.slug).in_(ELIGIBLE_LIGHTING),
        )
    ).all()
    _found_eligible(session, accounts.build_actor(session, city, ip=None), waiting)
    load_jury(session, challenge)


def _submit_before_deadline(session: Session, challenge: Challenge, path: Path) -> None:
    """The proposals of the file (by submitting account: how many days before the deadline, and the content),
    created and submitted through the proposals service at those times, unless the startup has one already."""
    from app.proposals import records as proposal_records
    from app.proposals import service as proposals
    from app.proposals.models import Proposal
    from app.proposals.schemas import ProposalCreate

    for email, submitted in json.loads(path.read_text(encoding="utf-8")).items():
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


@contextmanager
def _in_french() -> Iterator[None]:
    """Rounds created in French: the criteria's names and guidance, as the city writes them (the command line
    builds no app, which compiles the catalogues at start-up)."""
    from app.i18n import compile_catalogues, get_language, set_language

    compile_catalogues()
    asked = get_language()
    set_language("fr")
    try:
        yield
    finally:
        set_language(asked)


def _found_eligible(session: Session, staff: Actor, proposals_: Sequence[Any]) -> None:
    """The staff find these submitted proposals eligible, through the proposals service."""
    from app.proposals import records as proposal_records
    from app.proposals import service as proposals
    from app.proposals.schemas import EligibilityDecision

    for proposal in proposals_:
        view = proposal_records.get_proposal(session, staff, proposal.id or 0)
        proposals.decide_eligibility(session, staff, view, EligibilityDecision(eligible=True))


def _seat_and_open(session: Session, staff: Actor, written: Any, emails: Sequence[str], themes: list[str]) -> Any:
    """The round's candidates entered, these demo accounts seated as its jurors, the round opened."""
    from app.jury import jurors
    from app.jury import service as jury
    from app.jury.schemas import EntriesIn, JurorIn

    jury.add_entries(
        session, staff, written, EntriesIn(proposals=[p.id or 0 for p in jury.candidates(session, staff, written)])
    )
    for email in emails:
        user = accounts.get_user_by_email(session, email)
        if user is not None:
            jurors.add_juror(session, staff, written, JurorIn(user=user.id, themes=themes))
    return jury.open_round(session, staff, written)


# The startups the city found eligible for the street-lighting call (AquaSense's proposal waits for its check).
ELIGIBLE_LIGHTING = ("wayz", "luminour", "casalux")
# The lighting call's written pre-selection: its jurors (an outside expert and two partners' staff), and a
# conflict of interest one of them declared.
LIGHTING_JURORS = ("jury@medina.test", "lydec@medina.test", "tram@medina.test")
LIGHTING_CONFLICT = ("tram@medina.test", "casalux", "Mon beau-frère est associé de CasaLux.")


def load_jury(session: Session, challenge: Challenge) -> None:
    """The lighting call's selection under way (idempotent): an open written round with DataCity's criteria,
    the eligible proposals entered, three jurors assigned automatically around a declared conflict, one
    review already submitted; and the auditions round in draft. The city, lead sponsor, runs it."""
    from app.challenges import service as challenges
    from app.jury import assignments, jurors, reviews
    from app.jury import service as jury
    from app.jury.models import JuryRound
    from app.jury.records import get_assignment, get_managed_round, get_round
    from app.jury.schemas import ConflictIn, ReviewIn, RoundCreate

    if session.exec(select(JuryRound.id).where(JuryRound.challenge_id == challenge.id)).first():
        return
    city = accounts.get_user_by_email(session, "city@medina.test")
    assert city is not None
    staff = accounts.build_actor(session, city, ip=None)
    view = challenges.get_challenge(session, staff, challenge.id or 0)
    now = utcnow()
    with _in_french():
        written = jury.create_round(
            session,
            staff,
            view,
            RoundCreate(
                name="Présélection sur dossier",
                kind="written",
                opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=12),
                reviews_per_proposal=3,
                others_visible="after_own",
                preset="datacity",
            ),
        )
        jury.create_round(
            session,
            staff,
            view,
            RoundCreate(
                name="Auditions",
                kind="audition",
                opens_at=now + timedelta(days=15),
                closes_at=now + timedelta(days=16),
                reviews_per_proposal=3,
                others_visible="after_close",
                preset="datacity",
            ),
        )
    written = _seat_and_open(session, staff, written, LIGHTING_JURORS, ["energy", "public_space"])
    email, slug, reason = LIGHTING_CONFLICT
    karim = accounts.get_user_by_email(session, email)
    startup = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if karim is not None and startup is not None:  # Karim declares it himself, on his jury page
        seat = accounts.build_actor(session, karim, ip=None)
        jurors.declare_conflict(
            session, seat, get_round(session, seat, written.id), ConflictIn(startup=startup.id or 0, reason=reason)
        )
    assignments.assign(session, staff, get_managed_round(session, staff, written.id))
    nadia = accounts.get_user_by_email(session, "lydec@medina.test")
    if nadia is not None:
        actor = accounts.build_actor(session, nadia, ip=None)
        mine = assignments.list_assignments(session, actor, get_round(session, actor, written.id))
        if mine:
            task = get_assignment(session, actor, mine[0].id)
            scores = {str(c.id): score for c, score in zip(task.round.criteria, (4, 3, 3, 5, 4), strict=False)}
            reviews.save_review(
                session,
                actor,
                task,
                ReviewIn(
                    scores=scores,
                    comment="Une équipe solide et un plan d'expérimentation réaliste ; "
                    "précisez le coût par candélabre.",
                    note="À comparer avec LumiNour sur le coût de pose.",
                    submit=True,
                ),
            )


# The school-safety call, over since mid-November: its proposals (by submitting account), with the jurors'
# scores and comment for each and the decision the staff took.
SCHOOL_PROPOSALS = Path(__file__).with_name("demo_schools.json")
SCHOOL_JURY_OFFSETS = {"jury@medina.test": 0, "lydec@medina.test": -1, "tram@medina.test": 0}


def load_school_selection(session: Session) -> None:
    """A programme's selection stage, done (idempotent): the school-safety call's proposals, all eligible; its
    written round reviewed by the three jurors (two reviews per proposal, around Karim's conflict with CasaLux),
    closed; each decision proposed by the city and confirmed by Technopark — Wayz selected, its project opened;
    LumiNour waitlisted; CasaLux not selected — and the round published, so each startup has read its outcome
    and the jury's comments, and the challenge's page names the selected startup."""
    from app.challenges import service as challenges
    from app.jury import assignments, reviews
    from app.jury import service as jury
    from app.jury.models import JuryRound
    from app.jury.records import get_assignment, get_managed_round, get_round
    from app.jury.schemas import ReviewIn, RoundCreate
    from app.proposals.models import Proposal, ProposalStatus
    from app.selection import decisions, publication
    from app.selection.schemas import DecisionIn

    challenge = session.exec(select(Challenge).where(Challenge.slug == "securite-routiere-ecoles")).first()
    city = accounts.get_user_by_email(session, "city@medina.test")
    technopark = accounts.get_user_by_email(session, "operator@medina.test")
    if challenge is None or city is None or technopark is None or challenge.status != ChallengeStatus.published:
        return
    if (
        utcnow() < challenge.deadline
        or session.exec(select(JuryRound.id).where(JuryRound.challenge_id == challenge.id)).first()
    ):
        return
    _submit_before_deadline(session, challenge, SCHOOL_PROPOSALS)
    told = json.loads(SCHOOL_PROPOSALS.read_text(encoding="utf-8"))
    staff = accounts.build_actor(session, city, ip=None)
    second = accounts.build_actor(session, technopark, ip=None)
    submitted = session.exec(
        select(Proposal).where(Proposal.challenge_id == challenge.id, Proposal.status == ProposalStatus.submitted)
    ).all()
    _found_eligible(session, staff, submitted)
    now = utcnow()
    with _in_french():
        written = jury.create_round(
            session,
            staff,
            challenges.get_challenge(session, staff, challenge.id or 0),
            RoundCreate(
                name="Présélection sur dossier",
                kind="written",
                opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=1),
                reviews_per_proposal=2,
                others_visible="after_own",
                preset="datacity",
            ),
        )
    written = _seat_and_open(session, staff, written, list(SCHOOL_JURY_OFFSETS), ["safety", "mobility"])
    assignments.assign(session, staff, get_managed_round(session, staff, written.id))
    by_startup = {}
    for email, entry in told.items():
        user = accounts.get_user_by_email(session, email)
        if user is not None:
            for startup_id in accounts.build_actor(session, user, ip=None).organisation_ids(OrgKind.startup):
                by_startup[startup_id] = entry
    written_by: Counter[int] = Counter()  # reviews written so far per startup: each juror's comment is their own
    for email, offset in SCHOOL_JURY_OFFSETS.items():
        user = accounts.get_user_by_email(session, email)
        if user is None:
            continue
        actor = accounts.build_actor(session, user, ip=None)
        for mine in assignments.list_assignments(session, actor, get_round(session, actor, written.id)):
            task = get_assignment(session, actor, mine.id)
            entry = by_startup[task.proposal.proposal.startup_id]
            scores = {
                str(c.id): max(c.min_score, min(c.max_score, score + offset))
                for c, score in zip(task.round.criteria, entry["scores"], strict=False)
            }
            startup_id = task.proposal.proposal.startup_id
            comment = entry["comments"][written_by[startup_id] % len(entry["comments"])]
            written_by[startup_id] += 1
            reviews.save_review(session, actor, task, ReviewIn(scores=scores, comment=comment, submit=True))
    jury.close_round(session, staff, get_managed_round(session, staff, written.id))
    for proposal in session.exec(select(Proposal).where(Proposal.challenge_id == challenge.id)).all():
        entry = by_startup.get(proposal.startup_id)
        if entry is None or proposal.status != ProposalStatus.eligible:
            continue
        proposed = decisions.propose(
            session,
            staff,
            written.id,
            DecisionIn(proposal=proposal.id or 0, decision=entry["decision"], rationale=entry["rationale"]),
        )
        decisions.confirm(session, second, proposed.id or 0)
    publication.publish(session, staff, written.id)


def describe() -> str:
    lines = [f"Demo accounts (password for all: {DEMO_PASSWORD}):"]
    for email, name, slug, role, is_admin in ACCOUNTS:
        what = "platform admin" if is_admin else f"{role} of {slug}" if slug else "juror (no organisation)"
        lines.append(f"  {email:<24} {name} — {what}")
    return "\n".join(lines)
