"""Permission-matrix entries of startup profiles (startup A's profile, with a logo)."""

from app.files import staging
from app.files import types as file_types
from app.startups.models import StartupProfile
from tests.matrix import expect

ENTRIES = {
    # the edit form: a plain member reads the profile on the organisation page, and the form is hidden from it
    # (404, where the API's PATCH and the logo upload answer it 403)
    ("GET", "/organisations/{slug}/profile"): (
        None,
        expect(404, anonymous=303, startup=200, startup_member=404, platform_admin=200),
    ),
    ("POST", "/organisations/{slug}/profile"): (
        {"name": "Startup A renamed"},
        expect(404, anonymous=303, startup=303, startup_member=404, platform_admin=303),
    ),
    # a urlencoded body, not multipart: editors get past the permission check to a 415; a plain member may
    # see the profile but not change it; operator staff see no startup outside its proposals
    ("POST", "/organisations/{slug}/logo"): (
        {},
        expect(404, anonymous=303, startup=415, startup_member=403, platform_admin=415),
    ),
    ("GET", "/organisations/{slug}/logo"): (None, expect(200, anonymous=303)),
    ("GET", "/api/v1/organisations/{organisation_id}/profile"): (
        None,
        expect(404, anonymous=401, startup=200, platform_admin=200),
    ),
    ("PATCH", "/api/v1/organisations/{organisation_id}/profile"): (
        {"city": "Rabat"},
        expect(404, anonymous=401, startup=200, startup_member=403, platform_admin=200),
    ),
}

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def extend_world(db, make, world) -> dict:
    staged = staging.write_bytes("logo.png", PNG, types=file_types.IMAGE_TYPES)
    key = staging.new_storage_key("logos")
    staged.move_into_place(key)
    db.add(StartupProfile(organisation_id=world.organisations["startup"].id, logo_key=key, description="Buses."))
    db.flush()
    return {}
