"""Permission-matrix entries of the jury's API (tests/matrix/jury.py builds the world: an open round judging
startup A's and B's proposals, where the juror and the outside expert are assigned A's and the conflicted juror
B's only). A round is unknown (404) to whoever neither runs nor sits on it; a staff action on a round a juror
sees is forbidden to them (403); a conflicted juror gets 404 on everything about A's proposal."""

from tests.matrix import expect

STAFF = ("sponsor", "operator", "platform_admin")  # operator_admin answers as operator
SEATED = ("juror", "conflicted_juror", "outside_expert")  # other_round_juror answers as an outsider (404)


def round_staff(ok: int, *, jurors: int = 404) -> dict[str, int]:
    """The round's staff get `ok`, its seated jurors `jurors`; anyone else may not know the round exists."""
    return expect(404, anonymous=401, **dict.fromkeys(STAFF, ok), **dict.fromkeys(SEATED, jurors))


def assignment(*, staff: int = 200, **jurors: int) -> dict[str, int]:
    """An assignment: its staff get `staff`, the jurors named their answer; anyone else may not know it."""
    return expect(404, anonymous=401, **dict.fromkeys(STAFF, staff), **jurors)


ROUND = "/api/v1/rounds/{round_id}"

ENTRIES = {
    # the world's open challenge has no rounds yet: its list is empty to everyone, the staff add one
    ("GET", "/api/v1/challenges/{challenge_id}/rounds"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/challenges/{challenge_id}/rounds"): (
        {"name": "Written pre-selection", "opens_at": "2030-01-07T09:00:00", "closes_at": "2030-01-21T18:00:00"},
        expect(403, anonymous=401, **dict.fromkeys(STAFF, 201)),
    ),
    ("GET", "/api/v1/challenges/{jury_challenge_id}/rounds"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/challenges/{jury_challenge_id}/rounds"): (
        {"name": "Auditions", "opens_at": "2030-01-07T09:00:00", "closes_at": "2030-01-21T18:00:00"},
        expect(403, anonymous=401, **dict.fromkeys(STAFF, 201)),
    ),
    ("GET", ROUND): (None, round_staff(200, jurors=200)),
    ("GET", "/api/v1/rounds/{draft_round_id}"): (None, round_staff(200)),  # jurors see a round once it is open
    ("PATCH", ROUND): ({"name": "Written pre-selection, 2nd call"}, round_staff(200, jurors=403)),
    ("POST", ROUND + "/open"): (None, round_staff(409, jurors=403)),
    ("POST", "/api/v1/rounds/{draft_round_id}/open"): (None, round_staff(200)),
    ("POST", ROUND + "/close"): (None, round_staff(200, jurors=403)),
    ("GET", ROUND + "/entries"): (None, round_staff(200, jurors=403)),
    ("POST", ROUND + "/entries"): (
        lambda params: {"proposals": [params["jury_proposal_id"]]},
        round_staff(200, jurors=403),
    ),
    ("GET", ROUND + "/entries/{entry_id}"): (None, round_staff(200, jurors=403)),
    ("POST", ROUND + "/entries/{entry_id}/exclude"): ({"reason": "Withdrawn."}, round_staff(200, jurors=403)),
    ("POST", ROUND + "/entries/{entry_id}/include"): (None, round_staff(200, jurors=403)),
    ("GET", ROUND + "/jurors"): (None, round_staff(200, jurors=403)),
    ("GET", ROUND + "/jurors/{juror_id}"): (None, round_staff(200, jurors=403)),
    ("POST", ROUND + "/jurors"): (
        {"email": "new.expert@lab.example.net", "name": "New Expert"},
        round_staff(201, jurors=403),
    ),
    ("DELETE", ROUND + "/jurors/{juror_id}"): (None, round_staff(204, jurors=403)),
    ("GET", ROUND + "/conflicts"): (None, round_staff(200, jurors=200)),
    # the staff declare a conflict for the juror; a juror may declare their own only
    ("POST", ROUND + "/conflicts"): (
        lambda params: {"startup": params["startup_id"], "reason": "Board member.", "juror": params["juror_id"]},
        round_staff(201, jurors=403),
    ),
    ("POST", ROUND + "/assign"): (None, round_staff(200, jurors=403)),
    ("GET", ROUND + "/assignments"): (None, round_staff(200, jurors=200)),
    # the juror already has A's proposal: the staff get past the checks to a 409
    ("POST", ROUND + "/assignments"): (
        lambda params: {"juror": params["juror_id"], "proposal": params["jury_proposal_id"]},
        round_staff(409, jurors=403),
    ),
    ("GET", ROUND + "/reviews"): (None, round_staff(200, jurors=200)),
    ("GET", "/api/v1/assignments/{assignment_id}"): (None, assignment(juror=200)),
    ("GET", "/api/v1/assignments/{expert_assignment_id}"): (None, assignment(outside_expert=200)),
    ("GET", "/api/v1/assignments/{other_assignment_id}"): (None, assignment(conflicted_juror=200)),
    ("DELETE", "/api/v1/assignments/{assignment_id}"): (None, assignment(staff=204, juror=403)),
    # A's PDF through the assignments to A; the world's other attachment is of a proposal no round judges
    ("GET", "/api/v1/assignments/{assignment_id}/attachments/{jury_attachment_id}/download"): (
        None,
        assignment(juror=200),
    ),
    ("GET", "/api/v1/assignments/{expert_assignment_id}/attachments/{jury_attachment_id}/download"): (
        None,
        assignment(outside_expert=200),
    ),
    ("GET", "/api/v1/assignments/{assignment_id}/attachments/{attachment_id}/download"): (
        None,
        assignment(staff=404),
    ),
    ("PUT", "/api/v1/assignments/{assignment_id}/review"): (
        lambda params: {"scores": {str(params["criterion_id"]): 3}, "comment": "A draft."},
        assignment(staff=403, juror=200),
    ),
    ("PUT", "/api/v1/assignments/{expert_assignment_id}/review"): (
        lambda params: {"scores": {str(params["criterion_id"]): 3}},
        assignment(staff=403, outside_expert=200),
    ),
    # the fourth juror's review of B: others' reviews are shown after the close, so to the staff only
    ("GET", "/api/v1/reviews/{review_id}"): (None, round_staff(200)),
}
