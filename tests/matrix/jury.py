"""The permission matrix's jury world (its entries are in the jury faces' own modules). Partner P's second
challenge in operator O's programme is past its deadline; startup A's proposal (with a PDF attachment) and
startup B's, submitted before it, were found eligible. Its rounds, in order:
- an open written round judging both (DataCity's criteria, two reviews per proposal, not blind, others'
  reviews shown after the close) where sit the juror, the conflicted juror, the outside expert and a fourth
  juror of no role, eager to review B. The automatic assignment gives A to the juror and the expert, and B to
  the conflicted juror (who may not judge A) and the fourth juror, who has submitted their review of it;
- a second open round with no entries, where only the other round's juror sits;
- a draft round.
Built through the services, as the staff, the startups and the jurors would."""

from datetime import timedelta

from sqlmodel import select

from app.challenges import service as challenges
from app.db import utcnow
from app.jury import assignments, jurors, reviews, service
from app.jury.models import JuryAssignment
from app.jury.records import RoundView, get_assignment, get_managed_round, get_round
from app.jury.schemas import EntriesIn, JurorIn, ReviewIn, RoundCreate
from app.proposals import attachments
from app.proposals import records as proposal_records
from app.proposals import service as proposals
from app.proposals.schemas import EligibilityDecision
from app.security.actor import Actor

ENTRIES: dict = {}


def _proposal_with_deck(db, make, author, challenge) -> tuple[int, int]:
    """Startup A's proposal, submitted with a PDF: its id and the attachment's."""
    actor = make.actor(author)
    draft = make.proposal(author, challenge, title="Night feeder buses")
    deck = attachments.store_attachment_bytes(db, actor, draft.id, "night-feeders.pdf", b"%PDF-1.4 night feeders")
    proposals.submit_proposal(db, actor, proposal_records.get_proposal(db, actor, draft.id), accept_terms=True)
    return draft.id, deck.id or 0


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


def _submitted_review(db, juror: Actor, assignment_id: int) -> int:
    """The juror's review of their assignment, every criterion scored 4 of 5, submitted: its id."""
    assignment = get_assignment(db, juror, assignment_id)
    scores = {str(c.id): 4 for c in assignment.round.criteria}
    saved = reviews.save_review(db, juror, assignment, ReviewIn(scores=scores, comment="Clear plan.", submit=True))
    assert saved.problems is None, saved.problems
    return saved.review.id or 0


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
    proposal_a, deck_id = _proposal_with_deck(db, make, users["startup"], challenge)
    proposal_b = make.proposal(users["other_startup"], challenge, submitted=True, title="Night shuttles").id
    challenge.deadline = utcnow() - timedelta(hours=1)  # the deadline passed (a test world may move it)
    db.add(challenge)
    db.flush()
    for proposal_id in (proposal_a, proposal_b):
        view = proposal_records.get_proposal(db, sponsor, proposal_id)
        proposals.decide_eligibility(db, sponsor, view, EligibilityDecision(eligible=True))

    judged = _round(db, sponsor, challenge.id, "Written pre-selection", open_it=True)
    other = _round(db, sponsor, challenge.id, "Auditions", open_it=True)
    draft = _round(db, sponsor, challenge.id, "Final", open_it=False)
    entries = service.add_entries(db, sponsor, judged, EntriesIn(proposals=[proposal_a, proposal_b]))
    entry_a, entry_b = (next(e for e in entries if e.proposal_id == pid) for pid in (proposal_a, proposal_b))
    juror_id = _seat(db, sponsor, judged, users["juror"])
    conflicted_id = _seat(db, sponsor, judged, users["conflicted_juror"])
    _seat(db, sponsor, other, users["other_round_juror"])
    expert = users["outside_expert"]
    _, link = jurors.add_juror(db, sponsor, judged, JurorIn(email=expert.email, name=expert.name))
    assert link is not None
    expert_id = jurors.accept_invitation(db, make.actor(expert), link.rsplit("/", 1)[-1], None).id or 0
    # a fourth juror, eager for B, takes B's second review (the juror keeps to A) and submits it: the world
    # has a review on record for the routes that show reviews
    fourth = make.user(name="Fourth Juror")
    fourth_id = _seat(db, sponsor, judged, fourth)
    fourth_actor = make.actor(fourth)
    jurors.set_bid(db, fourth_actor, get_round(db, fourth_actor, judged.id), entry_b.id or 0, "eager")

    judged = get_managed_round(db, sponsor, judged.id)
    found = [(c.juror.id, c.startup.id, c.conflict.source) for c in jurors.list_conflicts(db, sponsor, judged)]
    assert found == [(conflicted_id, world.organisations["startup"].id, "automatic")], found
    assignments.assign(db, sponsor, judged)
    pairs = {
        (a.juror_id, a.entry_id) for a in db.exec(select(JuryAssignment).where(JuryAssignment.round_id == judged.id))
    }
    assert pairs == {
        (juror_id, entry_a.id),
        (expert_id, entry_a.id),
        (conflicted_id, entry_b.id),
        (fourth_id, entry_b.id),
    }
    review_id = _submitted_review(db, fourth_actor, _assignment(db, fourth_id, entry_b.id or 0))
    world.objects.update(jury_challenge=challenge, round=judged.round)
    return {
        "jury_challenge_id": challenge.id,
        "jury_proposal_id": proposal_a,
        "other_jury_proposal_id": proposal_b,
        "jury_attachment_id": deck_id,
        "round_id": judged.id,
        "other_round_id": other.id,
        "draft_round_id": draft.id,
        "entry_id": entry_a.id,
        "juror_id": juror_id,
        "assignment_id": _assignment(db, juror_id, entry_a.id or 0),
        "expert_assignment_id": _assignment(db, expert_id, entry_a.id or 0),
        "other_assignment_id": _assignment(db, conflicted_id, entry_b.id or 0),
        "review_id": review_id,
        "criterion_id": judged.criteria[0].id,
        "startup_id": world.organisations["startup"].id,
    }
