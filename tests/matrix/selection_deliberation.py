"""Permission-matrix entries of the jury's deliberation (app/selection/deliberation_web.py). On the jury world's
open round (tests/matrix/jury.py: others' reviews shown after the close) no juror may read a thread yet: the
staff only. extend_world adds to its challenge a round "Deliberation" that shows others' reviews after one's own,
judging startup A's and startup B's proposals, where the juror has submitted their review of A (they read A's
thread), the outside expert has not (404), and the conflicted juror has submitted theirs of B (A's thread is a
404 to them: conflicted). The other round's juror sits elsewhere (404). Staff notes: the staff only."""

from datetime import timedelta

from sqlmodel import select

from app.challenges import service as challenges
from app.db import utcnow
from app.jury import assignments, jurors, reviews, service
from app.jury.models import JuryAssignment, JuryEntry
from app.jury.records import get_assignment, get_managed_round
from app.jury.schemas import AssignmentIn, JurorIn, ReviewIn, RoundCreate
from tests.matrix import expect

STAFF = ("sponsor", "operator", "platform_admin")  # operator_admin answers as operator


def extend_world(db, make, world) -> dict:
    users = world.users
    sponsor = make.actor(users["sponsor"])
    challenge = challenges.get_challenge(db, sponsor, world.params["jury_challenge_id"])
    now = utcnow()
    data = RoundCreate(
        name="Deliberation",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        others_visible="after_own",
        criteria=[{"name": "Overall", "weight": 1, "min": 0, "max": 5}],
    )
    view = service.create_round(db, sponsor, challenge, data)
    # a later round takes what the one before shortlisted, which no round has done yet: entered by hand
    entries = {
        key: JuryEntry(round_id=view.id, proposal_id=world.params[key])
        for key in ("jury_proposal_id", "other_jury_proposal_id")
    }
    db.add_all(entries.values())
    db.flush()
    seats = {role: jurors.add_juror(db, sponsor, view, JurorIn(user=users[role].id))[0] for role in
             ("juror", "conflicted_juror", "outside_expert")}  # fmt: skip
    view = service.open_round(db, sponsor, get_managed_round(db, sponsor, view.id))
    view = get_managed_round(db, sponsor, view.id)
    for role, key in (("juror", "jury_proposal_id"), ("outside_expert", "jury_proposal_id"),
                      ("conflicted_juror", "other_jury_proposal_id")):  # fmt: skip
        assignments.add_assignment(db, sponsor, view, AssignmentIn(juror=seats[role].id, proposal=world.params[key]))
    for role in ("juror", "conflicted_juror"):
        actor = make.actor(users[role])
        (assignment_id,) = db.exec(select(JuryAssignment.id).where(JuryAssignment.juror_id == seats[role].id)).all()
        shown = get_assignment(db, actor, assignment_id)
        saved = reviews.save_review(
            db, actor, shown, ReviewIn(scores={str(c.id): 3 for c in shown.round.criteria}, submit=True)
        )
        assert saved.problems is None, saved.problems
    return {
        "deliberation_round_id": view.id,
        "deliberation_entry_id": entries["jury_proposal_id"].id,
        "mentioning_entry_id": entries["jury_proposal_id"].id,  # the same entry, for a second case of the route
        "conflicted_juror_email": users["conflicted_juror"].email,
    }


def staff(ok: int, **per_role: int) -> dict[str, int]:
    return expect(404, anonymous=303, **(dict.fromkeys(STAFF, ok) | per_role))


OPEN = "/rounds/{round_id}/entries/{entry_id}"  # the jury world's round: no juror reads a thread before the close
READ = "/rounds/{deliberation_round_id}/entries/{deliberation_entry_id}"  # the juror has reviewed A: they read it


def _naming_the_conflicted_juror(params: dict) -> dict:
    return {"body": f"What do you think, @{params['conflicted_juror_email']}?"}


ENTRIES = {
    ("GET", f"{OPEN}/discussion"): (None, staff(200)),
    ("POST", f"{OPEN}/discussion"): ({"body": "Is the pilot site confirmed?"}, staff(303)),
    ("POST", f"{OPEN}/notes"): ({"note": "Ask about the pilot site."}, staff(303)),
    ("GET", f"{READ}/discussion"): (None, staff(200, juror=200)),
    ("POST", f"{READ}/discussion"): ({"body": "I scored it 3."}, staff(303, juror=303)),
    ("POST", f"{READ}/notes"): ({"note": "Budget unclear."}, staff(303)),
    # naming someone who may not read the thread (conflicted with A): refused on the field, nobody told
    ("POST", "/rounds/{deliberation_round_id}/entries/{mentioning_entry_id}/discussion"): (
        _naming_the_conflicted_juror,
        staff(422, juror=422),
    ),
}

# the API: the same rules; a refusal of a thread the caller may not read is a 404, a visitor without a token 401
API_OPEN = "/api/v1" + OPEN
API_READ = "/api/v1" + READ


def api(ok: int, **per_role: int) -> dict[str, int]:
    return expect(404, anonymous=401, **(dict.fromkeys(STAFF, ok) | per_role))


ENTRIES.update(
    {
        ("GET", f"{API_OPEN}/messages"): (None, api(200)),
        ("POST", f"{API_OPEN}/messages"): ({"body": "Is the pilot site confirmed?"}, api(201)),
        ("GET", f"{API_OPEN}/participants"): (None, api(200)),
        ("GET", f"{API_READ}/messages"): (None, api(200, juror=200)),
        ("POST", f"{API_READ}/messages"): ({"body": "I scored it 3."}, api(201, juror=201)),
        ("GET", f"{API_READ}/participants"): (None, api(200, juror=200)),
        ("POST", "/api/v1/rounds/{deliberation_round_id}/entries/{mentioning_entry_id}/messages"): (
            _naming_the_conflicted_juror,
            api(422, juror=422),
        ),
    }
)
