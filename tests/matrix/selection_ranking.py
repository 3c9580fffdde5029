"""Permission-matrix entries of a round's ranking (app/selection/ranking_web.py and ranking_api.py): the page,
its CSV and its API list. The jury world's open round (tests/matrix/jury.py) shows others' reviews after the
close, so its ranking is the staff's only; extend_world adds to its challenge an open round that shows them
after the juror's own reviews, judging startup A's and B's proposals, where the juror and the conflicted juror
sit with nothing left to do (no assignment yet): they read that ranking (the conflicted juror without A's
proposal, as tests/test_selection_ranking.py checks), the outside expert, not seated there, does not. Anyone
else may not know a ranking exists (404); a visitor is sent to sign in (401 on the API)."""

from datetime import timedelta

from app.challenges import service as challenges
from app.db import utcnow
from app.jury import jurors, service
from app.jury.models import JuryEntry
from app.jury.schemas import JurorIn, RoundCreate
from tests.matrix import expect

STAFF = ("sponsor", "operator", "platform_admin")  # operator_admin answers as operator
READERS = ("juror", "conflicted_juror")  # seated in the after_own round with nothing left to do


def extend_world(db, make, world) -> dict:
    sponsor = make.actor(world.users["sponsor"])
    challenge = challenges.get_challenge(db, sponsor, world.params["jury_challenge_id"])
    now = utcnow()
    data = RoundCreate(
        name="Second reading",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        others_visible="after_own",
        preset="datacity",
    )
    view = service.create_round(db, sponsor, challenge, data)
    db.add_all(
        JuryEntry(round_id=view.id, proposal_id=world.params[p]) for p in ("jury_proposal_id", "other_jury_proposal_id")
    )  # a later round's entries, entered by hand (no round has shortlisted them)
    db.flush()
    for role in READERS:
        jurors.add_juror(db, sponsor, view, JurorIn(user=world.users[role].id))
    service.open_round(db, sponsor, view)
    return {"ranking_round_id": view.id}


def page(ok: int = 200, *readers: str) -> dict[str, int]:
    return expect(404, anonymous=303, **dict.fromkeys(STAFF, ok), **dict.fromkeys(readers, ok))


def api(*readers: str) -> dict[str, int]:
    return expect(404, anonymous=401, **dict.fromkeys(STAFF, 200), **dict.fromkeys(readers, 200))


ENTRIES = {
    ("GET", "/rounds/{round_id}/ranking"): (None, page()),
    ("GET", "/rounds/{ranking_round_id}/ranking"): (None, page(200, *READERS)),
    ("GET", "/rounds/{draft_round_id}/ranking"): (None, page()),  # an empty ranking, to the staff
    ("GET", "/rounds/{round_id}/ranking.csv"): (None, page()),
    ("GET", "/rounds/{ranking_round_id}/ranking.csv"): (None, page(200, *READERS)),
    ("GET", "/api/v1/rounds/{round_id}/ranking"): (None, api()),
    ("GET", "/api/v1/rounds/{ranking_round_id}/ranking"): (None, api(*READERS)),
}
