"""Permission-matrix entries of challenges, their image and Q&A (the world's challenge is published, led by
the sponsor, and has an image)."""

from app.challenges.models import Question
from app.db import utcnow
from app.files import staging
from app.files import types as file_types
from tests.matrix import CONFIRMED, expect

STAFF = ("sponsor", "operator", "platform_admin")


def staff(ok: int, *, others: int, anonymous: int) -> dict[str, int]:
    return expect(others, anonymous=anonymous, **{role: ok for role in STAFF})


def _new_challenge(params: dict) -> dict:
    return {
        "programme": params["programme_id"],
        "title": "Matrix challenge",
        "summary": "A summary.",
        "deadline": "2099-01-01T00:00:00+00:00",
    }


ENTRIES = {
    ("GET", "/challenges"): (None, expect(200)),
    ("GET", "/programmes/{programme_slug}/challenges/{challenge_slug}"): (None, expect(200)),
    ("GET", "/challenges/new"): (None, expect(404, anonymous=303, sponsor=200, operator=200, platform_admin=200)),
    ("POST", "/challenges/new"): ({}, expect(404, anonymous=303, sponsor=422, operator=422, platform_admin=422)),
    ("GET", "/challenges/{challenge_id}/edit"): (None, staff(200, others=404, anonymous=303)),
    ("POST", "/challenges/{challenge_id}/edit"): ({"summary": "Edited."}, staff(303, others=404, anonymous=303)),
    ("POST", "/challenges/{challenge_id}/publish"): ({}, staff(409, others=403, anonymous=303)),
    ("POST", "/challenges/{challenge_id}/status"): ({"status": "awarded"}, staff(409, others=403, anonymous=303)),
    # the matrix posts a urlencoded form, not multipart: staff get past the permission check to a 415
    ("POST", "/challenges/{challenge_id}/image"): ({}, staff(415, others=403, anonymous=303)),
    ("POST", "/challenges/{challenge_id}/image/remove"): (CONFIRMED, staff(303, others=403, anonymous=303)),
    # the world's challenge is published: nobody deletes it (drafts: tests/test_staff_housekeeping.py)
    ("POST", "/challenges/{challenge_id}/delete"): (CONFIRMED, staff(409, others=404, anonymous=303)),
    ("GET", "/challenges/{challenge_id}/image"): (None, expect(200)),
    ("POST", "/challenges/{challenge_id}/follow"): ({}, expect(303)),
    ("POST", "/challenges/{challenge_id}/questions"): ({"body": "Is the data hourly?"}, expect(303)),
    ("POST", "/questions/{question_id}/answer"): ({"answer": "Yes."}, staff(303, others=403, anonymous=303)),
    ("GET", "/api/v1/challenges"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/challenges"): (
        _new_challenge,
        expect(403, anonymous=401, sponsor=201, operator=201, platform_admin=422),
    ),
    ("GET", "/api/v1/challenges/{challenge_id}"): (None, expect(200, anonymous=401)),
    ("PATCH", "/api/v1/challenges/{challenge_id}"): ({"summary": "Edited."}, staff(200, others=403, anonymous=401)),
    ("POST", "/api/v1/challenges/{challenge_id}/publish"): (None, staff(409, others=403, anonymous=401)),
    ("GET", "/api/v1/challenges/{challenge_id}/questions"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/challenges/{challenge_id}/questions"): (
        {"body": "Is the data hourly?"},
        expect(201, anonymous=401),
    ),
    ("POST", "/api/v1/questions/{question_id}/answer"): ({"answer": "Yes."}, staff(200, others=403, anonymous=401)),
}


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def extend_world(db, make, world) -> dict:
    challenge = world.objects["challenge"]
    staged = staging.write_bytes("matrix.png", PNG, types=file_types.IMAGE_TYPES)
    challenge.image_key = staging.new_storage_key("challenges")
    staged.move_into_place(challenge.image_key)
    db.add(challenge)
    question = Question(
        challenge_id=world.objects["challenge"].id,
        body="Is there a map of the network?",
        answer="Yes.",
        answered_at=utcnow(),
    )
    db.add(question)
    db.flush()
    return {"question_id": question.id}
