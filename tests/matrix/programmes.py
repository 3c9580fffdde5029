"""Permission-matrix entries of programmes (the world's programme is run by the operator role's organisation,
with the sponsor's organisation as partner). Programmes are public; their operator and platform admins edit.
Any operator's member may start a programme for its own operator, so the unrelated operator gets the forms and
creates one, but has no say over the world's programme."""

from tests.matrix import expect

EDITORS = ("operator", "platform_admin")


def editors(ok: int, *, others: int, anonymous: int) -> dict[str, int]:
    return expect(others, anonymous=anonymous, **{role: ok for role in EDITORS})


def _edit_form(params: dict) -> dict:
    return {
        "name": "Matrix programme",
        "description": "Edited.",
        "timezone": "Africa/Casablanca",
        "partners": str(params["programme_partner_id"]),
    }


ENTRIES = {
    ("GET", "/programmes"): (None, expect(200)),
    ("GET", "/programmes/new"): (
        None,
        expect(404, anonymous=303, operator=200, unrelated_operator=200, platform_admin=200),
    ),
    ("POST", "/programmes/new"): (
        {},
        expect(404, anonymous=303, operator=422, unrelated_operator=422, platform_admin=422),
    ),
    ("GET", "/programmes/{programme_slug}"): (None, expect(200)),
    ("GET", "/programmes/{programme_slug}/edit"): (None, editors(200, others=404, anonymous=303)),
    ("POST", "/programmes/{programme_slug}/edit"): (_edit_form, editors(303, others=404, anonymous=303)),
    ("GET", "/api/v1/programmes"): (None, expect(200, anonymous=401)),
    # a platform admin belongs to no operator organisation, so must name one
    ("POST", "/api/v1/programmes"): (
        {"name": "Matrix second edition"},
        expect(403, anonymous=401, operator=201, unrelated_operator=201, platform_admin=422),
    ),
    ("GET", "/api/v1/programmes/{programme_id}"): (None, expect(200, anonymous=401)),
    ("PATCH", "/api/v1/programmes/{programme_id}"): (
        {"description": "Edited."},
        editors(200, others=403, anonymous=401),
    ),
}


def extend_world(db, make, world) -> dict:
    return {"programme_partner_id": world.organisations["partner"].id}
