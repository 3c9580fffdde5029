"""The permission matrix's jury world (its entries are in the jury faces' own modules). Partner P's second
challenge in operator O's programme is past its deadline; startup A's and startup B's proposals, submitted
before it, were found eligible. Its rounds, in order: an open written round judging both (DataCity's
criteria, two reviews per proposal) with the juror, the conflicted juror and the outside expert seated and
assigned by the automatic assignment (A to the juror and the expert, B to the juror and the conflicted juror,
who may not judge A); a second open round with no entries, where only the other round's juror sits; a draft
round. Built through the services, as the staff, the startups and the jurors would."""

from datetime import timedelta

from sqlmodel import select

from app.challenges import service as challenges
from app.db import utcnow
from app.jury import assignments, jurors, service
from app.jury.models import JuryAssignment
from app.jury.records import RoundView, get_managed_round
from app.jury.schemas import EntriesIn, JurorIn, RoundCreate
from app.proposals import records as proposal_records
from app.proposals import service as proposals
from app.proposals.schemas import EligibilityDecision
from app.security.actor import Actor

ENTRIES: dict = {}


def _round(db, sponsor: Actor, challenge_id: int, name: str, *, open_it: bool) -> RoundView:
    now = utcnow()
    data = RoundCreate(
        name=name,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        reviews_per_proposal=2,
        preset="datacity",
    )
    view = service.create_round(db, sponsor, challenges.get_challenge(db, sponsor, challenge_id), data)
    return service.open_round(db, sponsor, view) if open_it else view


def _seat(db, sponsor: Actor, view: RoundView, user) -> int:
    juror, _ = jurors.add_juror(db, sponsor, view, JurorIn(user=user.id))
    return juror.id or 0


def _assignment(db, juror_id: int, entry_id: int) -> int:
    found = db.exec(
        select(JuryAssignment.id).where(JuryAssignment.juror_id == juror_id, JuryAssignment.entry_id == entry_id)
    ).first()
    assert found is not None, f"the automatic assignment did not give juror {juror_id} entry {entry_id}"
    return found


def extend_world(db, make, world) -> dict:
    users = world.users
    sponsor = make.actor(users["sponsor"])
    challenge = make.published_challenge(
        world.organisations["partner"],
        programme=world.objects["programme"],
        slug="tram-night-lines",
        title="Tram night lines",
        themes=["mobility"],
        deadline=utcnow() + timedelta(days=1),
    )
    proposal_ids = [
        make.proposal(users[role], challenge, submitted=True, title=title).id
        for role, title in (("startup", "Night feeder buses"), ("other_startup", "Night shuttles on demand"))
    ]
    challenge.deadline = utcnow() - timedelta(hours=1)  # the deadline passed (a test world may move it)
    db.add(challenge)
    db.flush()
    for proposal_id in proposal_ids:
        view = proposal_records.get_proposal(db, sponsor, proposal_id)
        proposals.decide_eligibility(db, sponsor, view, EligibilityDecision(eligible=True))

    judged = _round(db, sponsor, challenge.id, "Written pre-selection", open_it=True)
    other = _round(db, sponsor, challenge.id, "Auditions", open_it=True)
    draft = _round(db, sponsor, challenge.id, "Final", open_it=False)
    entries = service.add_entries(db, sponsor, judged, EntriesIn(proposals=proposal_ids))
    entry_a, entry_b = (next(e for e in entries if e.proposal_id == pid) for pid in proposal_ids)
    juror_id = _seat(db, sponsor, judged, users["juror"])
    conflicted_id = _seat(db, sponsor, judged, users["conflicted_juror"])
    _seat(db, sponsor, other, users["other_round_juror"])
    expert = users["outside_expert"]
    _, link = jurors.add_juror(db, sponsor, judged, JurorIn(email=expert.email, name=expert.name))
    assert link is not None
    expert_id = jurors.accept_invitation(db, make.actor(expert), link.rsplit("/", 1)[-1], None).id or 0
    judged = get_managed_round(db, sponsor, judged.id)
    found = [(c.juror.id, c.startup.id, c.conflict.source) for c in jurors.list_conflicts(db, sponsor, judged)]
    assert found == [(conflicted_id, world.organisations["startup"].id, "automatic")], found
    # A needs two jurors free of conflicts: the juror and the expert; the conflicted juror can only take B
    assignments.assign(db, sponsor, judged)
    world.objects.update(jury_challenge=challenge, round=judged.round)
    return {
        "jury_challenge_id": challenge.id,
        "jury_proposal_id": proposal_ids[0],
        "other_jury_proposal_id": proposal_ids[1],
        "round_id": judged.id,
        "other_round_id": other.id,
        "draft_round_id": draft.id,
        "entry_id": entry_a.id,
        "juror_id": juror_id,
        "assignment_id": _assignment(db, juror_id, entry_a.id or 0),
        "expert_assignment_id": _assignment(db, expert_id, entry_a.id or 0),
        "other_assignment_id": _assignment(db, conflicted_id, entry_b.id or 0),
        "criterion_id": judged.criteria[0].id,
        "startup_id": world.organisations["startup"].id,
    }
