"""Permission-matrix entries of programmes (the world's programme is run by the operator role's organisation,
with the sponsor's organisation as partner). Programmes are public; their operator and platform admins edit."""

ROLES = ("anonymous", "startup", "other_startup", "sponsor", "other_sponsor", "operator", "platform_admin")
EDITORS = ("operator", "platform_admin")


def expect(default: int, **per_role: int) -> dict[str, int]:
    return {role: per_role.get(role, default) for role in ROLES}


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
    ("GET", "/programmes/new"): (None, editors(200, others=404, anonymous=303)),
    ("POST", "/programmes/new"): ({}, editors(422, others=404, anonymous=303)),
    ("GET", "/programmes/{programme_slug}"): (None, expect(200)),
    ("GET", "/programmes/{programme_slug}/edit"): (None, editors(200, others=404, anonymous=303)),
    ("POST", "/programmes/{programme_slug}/edit"): (_edit_form, editors(303, others=404, anonymous=303)),
    ("GET", "/api/v1/programmes"): (None, expect(200, anonymous=401)),
    # a platform admin belongs to no operator organisation, so must name one
    ("POST", "/api/v1/programmes"): (
        {"name": "Matrix second edition"},
        expect(403, anonymous=401, operator=201, platform_admin=422),
    ),
    ("GET", "/api/v1/programmes/{programme_id}"): (None, expect(200, anonymous=401)),
    ("PATCH", "/api/v1/programmes/{programme_id}"): (
        {"description": "Edited."},
        editors(200, others=403, anonymous=401),
    ),
}


def extend_world(db, make, world) -> dict:
    return {"programme_partner_id": world.organisations["partner"].id}
