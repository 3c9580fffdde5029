"""Permission-matrix entries of the jurors' pages (app/jury/web.py), on the jury world of tests/matrix/jury.py.
Each page is the juror's own: a queue answers only those seated in its round, an assignment only its juror
(never across a conflict of interest); the staff run rounds from their own pages, so these are 404 to them as
to anyone who may not know the records exist."""

from tests.matrix import expect

JURORS = ("juror", "conflicted_juror", "outside_expert")


def seated(ok: int, *roles: str) -> dict[str, int]:
    """`ok` for these roles (the open round's jurors unless named), a 404 for everyone else, anonymous sent to
    sign in."""
    return expect(404, anonymous=303, **dict.fromkeys(roles or JURORS, ok))


ENTRIES = {
    ("GET", "/jury"): (None, expect(200, anonymous=303)),
    ("GET", "/jury/rounds/{round_id}"): (None, seated(200)),
    ("GET", "/jury/rounds/{other_round_id}"): (None, seated(200, "other_round_juror")),
    ("GET", "/jury/rounds/{draft_round_id}"): (None, expect(404, anonymous=303)),  # jurors see no draft
    ("POST", "/jury/rounds/{round_id}/themes"): ({"themes": "mobility"}, seated(303)),
    ("POST", "/jury/rounds/{round_id}/conflicts"): (
        lambda params: {"startup": params["startup_id"], "reason": "I advised this startup."},
        seated(303),
    ),
    # the juror's assignment to startup A's proposal: the conflicted juror, seated in the round, never sees it
    ("GET", "/jury/assignments/{assignment_id}"): (None, seated(200, "juror")),
    ("GET", "/jury/assignments/{expert_assignment_id}"): (None, seated(200, "outside_expert")),
    ("GET", "/jury/assignments/{other_assignment_id}"): (None, seated(200, "conflicted_juror")),
    ("POST", "/jury/assignments/{assignment_id}/review"): (
        {"action": "draft", "comment": "So far"},
        seated(303, "juror"),
    ),
    ("POST", "/jury/assignments/{assignment_id}/autosave"): ({"comment": "Typing"}, seated(200, "juror")),
    ("POST", "/jury/assignments/{assignment_id}/bid"): ({"bid": "eager"}, seated(303, "juror")),
    ("POST", "/jury/assignments/{assignment_id}/conflict"): ({"reason": "I advised them."}, seated(303, "juror")),
    ("GET", "/jury/assignments/{assignment_id}/attachments/{jury_attachment_id}"): (None, seated(200, "juror")),
    ("GET", "/jury/assignments/{expert_assignment_id}/attachments/{jury_attachment_id}"): (
        None,
        seated(200, "outside_expert"),
    ),
    # an attachment of a proposal of another challenge: no assignment shows it
    ("GET", "/jury/assignments/{assignment_id}/attachments/{attachment_id}"): (None, seated(404, "juror")),
    ("GET", "/jury/invitations/{secret}"): (None, expect(404)),
    ("POST", "/jury/invitations/{secret}"): ({}, expect(404)),
}
