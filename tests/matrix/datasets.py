"""Permission-matrix entries of datasets. The world's published challenge gets a dataset of each access level,
each with one CSV: public (anyone), registered (anyone signed in; an anonymous visitor is sent to sign in),
applicants (the staff and startup A, which submitted a proposal; 404 for anyone else) and selected (the staff
only until selection exists). The routes are checked on the public one; the others are variants of the same
routes with other records."""

from app.challenges import service as challenges
from app.datasets import service as datasets
from app.datasets.schemas import DatasetCreate
from tests.matrix import CONFIRMED, expect

STAFF = ("sponsor", "operator", "platform_admin")


def staff(ok: int, *, others: int, anonymous: int) -> dict[str, int]:
    return expect(others, anonymous=anonymous, **{role: ok for role in STAFF})


APPLICANT = {"startup": 200, "startup_member": 200}  # startup A submitted a proposal to the challenge
CSV = b"stop,boardings\nCasa Port,1200\nPlace Nations Unies,950\n"

ENTRIES = {
    ("GET", "/datasets/{dataset_id}"): (None, expect(200)),
    ("GET", "/datasets/{dataset_id}/edit"): (None, staff(200, others=404, anonymous=303)),
    ("POST", "/datasets/{dataset_id}/edit"): ({"title": "Edited dataset"}, staff(303, others=404, anonymous=303)),
    ("GET", "/challenges/{challenge_id}/datasets/new"): (None, staff(200, others=404, anonymous=303)),
    ("POST", "/challenges/{challenge_id}/datasets/new"): ({}, staff(422, others=404, anonymous=303)),
    # the matrix posts a urlencoded form, not multipart: staff get past the permission check to a 415
    ("POST", "/datasets/{dataset_id}/files"): ({}, staff(415, others=403, anonymous=303)),
    ("POST", "/datasets/{dataset_id}/dictionary"): (
        {"name_0": "stop", "description_0": "Tram stop", "unit_0": ""},
        staff(303, others=403, anonymous=303),
    ),
    ("GET", "/datasets/{dataset_id}/files/{file_id}/download"): (None, expect(200)),
    ("POST", "/datasets/{dataset_id}/files/{file_id}/remove"): (CONFIRMED, staff(303, others=403, anonymous=303)),
    ("GET", "/datasets/{registered_dataset_id}"): (None, expect(200, anonymous=303)),
    ("GET", "/datasets/{registered_dataset_id}/files/{registered_file_id}/download"): (
        None,
        expect(200, anonymous=303),
    ),
    ("GET", "/datasets/{applicants_dataset_id}"): (None, staff(200, others=404, anonymous=404) | APPLICANT),
    ("GET", "/datasets/{applicants_dataset_id}/files/{applicants_file_id}/download"): (
        None,
        staff(200, others=404, anonymous=404) | APPLICANT,
    ),
    ("GET", "/datasets/{selected_dataset_id}"): (None, staff(200, others=404, anonymous=404)),
    ("GET", "/datasets/{selected_dataset_id}/files/{selected_file_id}/download"): (
        None,
        staff(200, others=404, anonymous=404),
    ),
    ("GET", "/datasets/{dataset_id}/datapackage.json"): (None, expect(200)),
    ("GET", "/catalogue.jsonld"): (None, expect(200)),
    ("GET", "/api/v1/challenges/{challenge_id}/datasets"): (None, expect(200, anonymous=401)),
    ("POST", "/api/v1/challenges/{challenge_id}/datasets"): (
        {"title": "Matrix data", "licence": "CC-BY-4.0"},
        staff(201, others=403, anonymous=401),
    ),
    ("GET", "/api/v1/datasets/{dataset_id}"): (None, expect(200, anonymous=401)),
    ("PATCH", "/api/v1/datasets/{dataset_id}"): ({"title": "Edited dataset"}, staff(200, others=403, anonymous=401)),
    # JSON instead of multipart: staff get past the permission check to a 415
    ("POST", "/api/v1/datasets/{dataset_id}/files"): (None, staff(415, others=403, anonymous=401)),
    ("GET", "/api/v1/datasets/{dataset_id}/files/{file_id}"): (None, expect(200, anonymous=401)),
    ("GET", "/api/v1/datasets/{dataset_id}/files/{file_id}/download"): (None, expect(200, anonymous=401)),
    ("DELETE", "/api/v1/datasets/{dataset_id}/files/{file_id}"): (None, staff(204, others=403, anonymous=401)),
    ("GET", "/api/v1/datasets/{dataset_id}/datapackage.json"): (None, expect(200, anonymous=401)),
}


def extend_world(db, make, world) -> dict:
    """A public dataset on the world's challenge with one CSV written through the storage layer."""
    sponsor = make.actor(world.users["sponsor"])
    challenge = challenges.get_challenge(db, sponsor, world.objects["challenge"].id)
    view = datasets.create_dataset(
        db, sponsor, challenge, DatasetCreate(title="Tram stops", licence="ODbL-1.0", access="public")
    )
    stored = datasets.store_bytes(db, sponsor, view.dataset.id, "stops.csv", CSV)
    world.objects["dataset"] = view.dataset
    params = {"dataset_id": view.dataset.id, "file_id": stored.id}
    for access in ("registered", "applicants", "selected"):
        other = datasets.create_dataset(
            db, sponsor, challenge, DatasetCreate(title=f"Tram stops ({access})", licence="ODbL-1.0", access=access)
        )
        params[f"{access}_dataset_id"] = other.dataset.id
        params[f"{access}_file_id"] = datasets.store_bytes(db, sponsor, other.dataset.id, "stops.csv", CSV).id
    return params
