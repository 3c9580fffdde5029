"""Permission-matrix entries of the staff's pages for running a round (app/jury/staff_web.py), on the jury world
of tests/matrix/jury.py. Only the challenge's staff run its rounds: everyone else, the round's own jurors
included, may not know these pages exist (404); a visitor is sent to sign in."""

from tests.matrix import CONFIRMED, expect

STAFF = ("sponsor", "operator", "platform_admin")  # operator_admin answers as operator


def staff(ok: int) -> dict[str, int]:
    return expect(404, anonymous=303, **dict.fromkeys(STAFF, ok))


ROUND = "/rounds/{round_id}"

ENTRIES = {
    # the first wave's challenge has no round yet; the jury world's has three
    ("GET", "/challenges/{challenge_id}/rounds"): (None, staff(200)),
    ("GET", "/challenges/{jury_challenge_id}/rounds"): (None, staff(200)),
    ("GET", "/challenges/{challenge_id}/rounds/new"): (None, staff(200)),
    ("POST", "/challenges/{challenge_id}/rounds/new"): ({}, staff(422)),
    ("GET", ROUND): (None, staff(200)),
    ("GET", "/rounds/{draft_round_id}"): (None, staff(200)),
    ("GET", "/rounds/{other_round_id}"): (None, staff(200)),
    ("GET", f"{ROUND}/edit"): (None, staff(200)),
    ("POST", f"{ROUND}/edit"): ({}, staff(422)),  # a name is required
    # the round is open already; the draft opens
    ("POST", f"{ROUND}/open"): (CONFIRMED, staff(409)),
    ("POST", "/rounds/{draft_round_id}/open"): (CONFIRMED, staff(303)),
    ("POST", f"{ROUND}/close"): (CONFIRMED, staff(303)),
    ("POST", f"{ROUND}/entries"): ({}, staff(422)),  # no proposal picked
    ("POST", f"{ROUND}/entries/{{entry_id}}/exclude"): ({"reason": "Out of scope."}, staff(303)),
    ("POST", f"{ROUND}/entries/{{entry_id}}/include"): ({}, staff(303)),
    ("POST", f"{ROUND}/jurors"): (
        {"by": "email", "email": "new.expert@lab.example.net", "name": "New Expert"},
        staff(303),
    ),
    # the juror has written no review: they may be removed
    ("POST", f"{ROUND}/jurors/{{juror_id}}/remove"): (CONFIRMED, staff(303)),
    ("POST", f"{ROUND}/conflicts"): (
        lambda params: {"juror": params["juror_id"], "startup": params["startup_id"], "reason": "Former adviser."},
        staff(303),
    ),
    ("POST", f"{ROUND}/assign"): ({}, staff(303)),
    # the juror already has startup A's proposal
    ("POST", f"{ROUND}/assignments"): (
        lambda params: {"juror": params["juror_id"], "proposal": params["jury_proposal_id"]},
        staff(409),
    ),
    ("POST", f"{ROUND}/assignments/{{assignment_id}}/remove"): (CONFIRMED, staff(303)),
    ("POST", f"{ROUND}/remind"): ({}, staff(303)),
}
