"""Permission-matrix entries of the decisions (app/selection/decisions_web.py and decisions_api.py). extend_world
adds to the jury world's challenge (tests/matrix/jury.py) a closed round judging startup A's and startup B's
proposals, each reviewed by two jurors of no role; the jury world's juror also sits on it (with nothing to
review). B's proposal has a decision in force (`rejected`: proposed by the sponsor, confirmed by the operator);
A's has one proposed by the sponsor (`selected`), to be confirmed. Only the challenge's staff know the
decisions: everyone else gets 404 (a visitor is sent to sign in); on the API, the round's juror is refused
(403) the round's staff-only actions, and the proposer confirming their own decision is refused (403)."""

from datetime import timedelta

from app.challenges import service as challenges
from app.db import utcnow
from app.jury import assignments, jurors, records, reviews, service
from app.jury.models import JuryEntry
from app.jury.schemas import JurorIn, ReviewIn, RoundCreate
from app.selection import decisions
from app.selection.schemas import DecisionIn
from tests.matrix import CONFIRMED, expect

STAFF = ("sponsor", "operator", "operator_admin", "platform_admin")


def extend_world(db, make, world) -> dict:
    sponsor = make.actor(world.users["sponsor"])
    operator = make.actor(world.users["operator"])
    challenge = challenges.get_challenge(db, sponsor, world.params["jury_challenge_id"])
    now = utcnow()
    data = RoundCreate(
        name="Final decision",
        kind="final",
        opens_at=now - timedelta(days=2),
        closes_at=now + timedelta(days=30),
        reviews_per_proposal=2,
        preset="datacity",
    )
    view = service.create_round(db, sponsor, challenge, data)
    # a later round takes the proposals the one before shortlisted, which no round has done: entered by hand
    a, b = world.params["jury_proposal_id"], world.params["other_jury_proposal_id"]
    db.add_all([JuryEntry(round_id=view.id, proposal_id=p) for p in (a, b)])
    db.flush()
    judges = [make.user(name=f"Final Judge {i}") for i in range(2)]
    for judge in judges:
        jurors.add_juror(db, sponsor, view, JurorIn(user=judge.id))
    view = service.open_round(db, sponsor, records.get_managed_round(db, sponsor, view.id))
    assignments.assign(db, sponsor, view)
    for judge, score in zip(judges, (4, 3), strict=True):
        actor = make.actor(judge)
        for task in assignments.list_assignments(db, actor, records.get_round(db, actor, view.id)):
            scores = {str(c.id): score for c in task.round.criteria}
            saved = reviews.save_review(db, actor, task, ReviewIn(scores=scores, comment="Go on.", submit=True))
            assert saved.problems is None, saved.problems
    jurors.add_juror(db, sponsor, view, JurorIn(user=world.users["juror"].id))
    service.close_round(db, sponsor, records.get_managed_round(db, sponsor, view.id))
    in_force = decisions.propose(db, sponsor, view.id, DecisionIn(proposal=b, decision="rejected", rationale="Weak."))
    decisions.confirm(db, operator, in_force.id)
    pending = decisions.propose(db, sponsor, view.id, DecisionIn(proposal=a, decision="selected", rationale="Best."))
    return {"decisions_round_id": view.id, "decision_id": pending.id, "confirmed_decision_id": in_force.id}


def staff(ok: int, **per_role: int) -> dict[str, int]:
    return expect(404, anonymous=303, **({role: ok for role in STAFF} | per_role))


def api_staff(ok: int, **per_role: int) -> dict[str, int]:
    return expect(404, anonymous=401, **({role: ok for role in STAFF} | per_role))


ROUND = "/rounds/{decisions_round_id}"
API_ROUND = "/api/v1/rounds/{decisions_round_id}"
B_WAITLISTED = {"decision": "waitlisted", "rationale": "Next in line."}

SEATED = ("juror", "conflicted_juror", "outside_expert")  # in the jury world's open round, `round_id`
OPEN_API_REFUSED = dict.fromkeys(SEATED, 403)

ENTRIES = {
    ("GET", f"{ROUND}/decisions"): (None, staff(200)),
    ("GET", "/rounds/{round_id}/decisions"): (None, staff(200)),  # open: the page says decisions come later
    # B's decision in force is replaced by a proposal; the open round takes none (409)
    ("POST", f"{ROUND}/decisions"): (
        lambda p: {"proposal": str(p["other_jury_proposal_id"]), **B_WAITLISTED},
        staff(303),
    ),
    ("POST", "/rounds/{round_id}/decisions"): (
        lambda p: {"proposal": str(p["jury_proposal_id"]), **B_WAITLISTED},
        staff(409),
    ),
    ("POST", f"{ROUND}/decisions/shortlist"): ({"top": "2"}, staff(303)),  # both decided: nothing to propose
    ("POST", "/rounds/{round_id}/decisions/shortlist"): ({"top": "2"}, staff(409)),
    # the sponsor proposed it: the others confirm
    ("POST", "/decisions/{decision_id}/confirm"): ({}, staff(303, sponsor=403)),
    ("POST", "/decisions/{confirmed_decision_id}/confirm"): ({}, staff(409)),
    ("POST", "/decisions/{decision_id}/withdraw"): ({}, staff(303)),
    ("POST", "/decisions/{confirmed_decision_id}/withdraw"): ({}, staff(409)),
    # A has no decision in force yet; the open round is not to publish
    ("POST", f"{ROUND}/publish"): (CONFIRMED, staff(409)),
    ("POST", "/rounds/{round_id}/publish"): (CONFIRMED, staff(409)),
    # API: the round's jurors are refused its staff's actions (403)
    ("GET", f"{API_ROUND}/decisions"): (None, api_staff(200, juror=403)),
    ("GET", "/api/v1/rounds/{round_id}/decisions"): (None, api_staff(200, **OPEN_API_REFUSED)),
    ("POST", f"{API_ROUND}/decisions"): (
        lambda p: {"proposal": p["other_jury_proposal_id"], **B_WAITLISTED},
        api_staff(201, juror=403),
    ),
    ("POST", "/api/v1/rounds/{round_id}/decisions"): (
        lambda p: {"proposal": p["jury_proposal_id"], **B_WAITLISTED},
        api_staff(409, **OPEN_API_REFUSED),
    ),
    ("GET", "/api/v1/decisions/{decision_id}"): (None, api_staff(200)),
    ("POST", "/api/v1/decisions/{decision_id}/confirm"): (None, api_staff(200, sponsor=403)),
    ("POST", "/api/v1/decisions/{decision_id}/withdraw"): (None, api_staff(200)),
    ("POST", f"{API_ROUND}/publish"): (None, api_staff(409, juror=403)),
    ("POST", "/api/v1/rounds/{round_id}/publish"): (None, api_staff(409, **OPEN_API_REFUSED)),
}
