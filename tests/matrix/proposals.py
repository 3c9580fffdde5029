"""Permission-matrix entries of proposals. The world's challenge is open (its deadline is ahead): startup A has
submitted a complete proposal with an attachment; the challenge has one extra question. Before the deadline the
challenge's staff see counts only, so every proposal route is a 404 for them; after-deadline access is covered
role by role in tests/test_proposals_web.py."""

from app.proposals import attachments, records, service
from app.proposals.models import ProposalQuestion
from app.proposals.schemas import ProposalCreate, ProposalUpdate
from tests.matrix import CONFIRMED, expect

STAFF = ("sponsor", "operator", "platform_admin")


def startup_only(ok: int, *, anonymous: int = 303) -> dict[str, int]:
    """The startup's members only: anyone else may not know the proposal exists."""
    return expect(404, anonymous=anonymous, startup=ok)


def staff(ok: int, *, others: int = 404, anonymous: int = 303) -> dict[str, int]:
    return expect(others, anonymous=anonymous, **{role: ok for role in STAFF})


ENTRIES = {
    ("GET", "/my/applications"): (None, expect(200, anonymous=303)),
    ("POST", "/challenges/{challenge_id}/proposals"): (
        {},
        expect(403, anonymous=303, startup=303, other_startup=303),
    ),
    ("GET", "/proposals/{proposal_id}"): (None, startup_only(200)),
    ("GET", "/proposals/{proposal_id}/edit"): (None, startup_only(200)),
    ("POST", "/proposals/{proposal_id}/edit"): ({"title": "Edited"}, startup_only(303)),
    ("POST", "/proposals/{proposal_id}/autosave"): ({"title": "Typed"}, startup_only(200)),
    ("POST", "/proposals/{proposal_id}/submit"): ({"accept_terms": "true"}, startup_only(303)),
    ("GET", "/proposals/{proposal_id}/versions/{number}"): (None, startup_only(200)),
    ("POST", "/proposals/{proposal_id}/withdraw"): (CONFIRMED, startup_only(303)),
    # the matrix posts a urlencoded form, not multipart: members get past the permission check to a 415
    ("POST", "/proposals/{proposal_id}/attachments"): ({}, startup_only(415)),
    ("POST", "/proposals/{proposal_id}/attachments/{attachment_id}/remove"): (CONFIRMED, startup_only(303)),
    ("GET", "/proposals/{proposal_id}/attachments/{attachment_id}/download"): (None, startup_only(200)),
    ("POST", "/proposals/{proposal_id}/eligibility"): ({"eligible": "true"}, startup_only(403)),
    ("GET", "/challenges/{challenge_id}/proposals"): (None, staff(200)),
    ("GET", "/challenges/{challenge_id}/proposals.csv"): (None, staff(403)),
    ("GET", "/challenges/{challenge_id}/proposals.zip"): (None, staff(403)),
    ("GET", "/challenges/{challenge_id}/proposal-questions"): (None, staff(200)),
    # proposals were submitted: the questions can no longer change (409) for the staff
    ("POST", "/challenges/{challenge_id}/proposal-questions"): ({"label": "Team size?", "kind": "number"}, staff(409)),
    ("GET", "/proposal-questions/{proposal_question_id}/edit"): (None, staff(200)),
    ("POST", "/proposal-questions/{proposal_question_id}/edit"): ({"label": "Team size now?"}, staff(409)),
    ("POST", "/proposal-questions/{proposal_question_id}/move"): ({"direction": "up"}, staff(409)),
    ("POST", "/proposal-questions/{proposal_question_id}/remove"): (CONFIRMED, staff(409)),
    # the jury's challenge (tests/matrix/jury.py) is past its deadline: its staff read startup A's eligible
    # proposal and the list; a juror reads proposals through their assignments only, never through these pages
    ("GET", "/proposals/{jury_proposal_id}"): (None, staff(200, others=404) | {"startup": 200, "startup_member": 200}),
    ("GET", "/challenges/{jury_challenge_id}/proposals"): (None, staff(200)),
    ("GET", "/challenges/{jury_challenge_id}/proposals.csv"): (None, staff(200)),
    ("POST", "/proposals/{jury_proposal_id}/eligibility"): (
        {"eligible": "true"},
        staff(303) | {"startup": 403, "startup_member": 403},
    ),
    # API
    ("GET", "/api/v1/proposals"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/proposals"): (
        lambda params: {"challenge": params["challenge_id"]},
        expect(403, anonymous=401, startup=409, other_startup=201),
    ),
    ("GET", "/api/v1/proposals/{proposal_id}"): (None, startup_only(200, anonymous=401)),
    ("GET", "/api/v1/proposals/{jury_proposal_id}"): (
        None,
        staff(200, anonymous=401) | {"startup": 200, "startup_member": 200},
    ),
    ("PATCH", "/api/v1/proposals/{proposal_id}"): ({"summary": "Edited."}, startup_only(200, anonymous=401)),
    ("POST", "/api/v1/proposals/{proposal_id}/submit"): ({"accept_terms": True}, startup_only(200, anonymous=401)),
    ("POST", "/api/v1/proposals/{proposal_id}/withdraw"): (None, startup_only(200, anonymous=401)),
    ("POST", "/api/v1/proposals/{proposal_id}/eligibility"): ({"eligible": True}, startup_only(403, anonymous=401)),
    ("POST", "/api/v1/proposals/{proposal_id}/attachments"): (None, startup_only(415, anonymous=401)),
    ("GET", "/api/v1/proposals/{proposal_id}/attachments/{attachment_id}"): (None, startup_only(200, anonymous=401)),
    ("GET", "/api/v1/proposals/{proposal_id}/attachments/{attachment_id}/download"): (
        None,
        startup_only(200, anonymous=401),
    ),
    ("GET", "/api/v1/challenges/{challenge_id}/proposal-questions"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/challenges/{challenge_id}/proposal-questions"): (
        {"label": "Team size?", "kind": "number"},
        staff(409, others=403, anonymous=401),
    ),
    ("PATCH", "/api/v1/proposal-questions/{proposal_question_id}"): (
        {"label": "Team size now?"},
        staff(409, anonymous=401),
    ),
    ("PUT", "/api/v1/challenges/{challenge_id}/proposal-questions/order"): (
        lambda params: {"order": [params["proposal_question_id"]]},
        staff(409, others=403, anonymous=401),
    ),
    ("DELETE", "/api/v1/proposal-questions/{proposal_question_id}"): (None, staff(409, anonymous=401)),
}

COMPLETE = {
    "title": "Feeder buses on demand",
    "summary": "Buses that meet the tram.",
    "description": "An app and a dispatch model.",
    "data_use": "Ridership per stop.",
    "experimentation_plan": "Two lines for three months.",
    "team": [{"name": "Salma", "role": "CEO"}],
    "trl": 6,
    "plan": [{"month": 1, "milestone": "Pilot"}],
}


def extend_world(db, make, world) -> dict:
    actor = make.actor(world.users["startup"])
    challenge = world.objects["challenge"]
    view = service.create_proposal(db, actor, ProposalCreate(challenge=challenge.id, **COMPLETE))
    attachment = attachments.store_attachment_bytes(db, actor, view.proposal.id, "deck.pdf", b"%PDF-1.4 pitch deck")
    view = records.get_proposal(db, actor, view.proposal.id)
    service.update_proposal(db, actor, view, ProposalUpdate(needs="Access to stops."))
    view = records.get_proposal(db, actor, view.proposal.id)
    version = service.submit_proposal(db, actor, view, accept_terms=True)
    question = ProposalQuestion(challenge_id=challenge.id, kind="short_text", label="Where are you based?")
    db.add(question)
    db.flush()
    return {
        "proposal_id": view.proposal.id,
        "attachment_id": attachment.id,
        "number": version.number,
        "proposal_question_id": question.id,
    }
