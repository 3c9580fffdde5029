"""Permission-matrix entries of audition pitch slots. The jury world's rounds (tests/matrix/jury.py) are written
or final ones, which have no slots: extend_world adds to its challenge a draft audition round judging startup
A's and startup B's proposals, open for booking, with a free slot (`slot_id`) and one given to B
(`taken_slot_id`). Nobody sits on that round yet, so the jurors answer there as outsiders."""

from datetime import timedelta

from app.challenges import service as challenges
from app.db import utcnow
from app.jury import service, slots
from app.jury.models import JuryEntry
from app.jury.schemas import RoundCreate, RoundUpdate
from tests.matrix import CONFIRMED, expect

STAFF = ("sponsor", "operator", "operator_admin", "platform_admin")
STARTUPS = ("startup", "startup_member", "other_startup")
SEATED = ("juror", "conflicted_juror", "outside_expert")  # in the open written round `round_id`


def extend_world(db, make, world) -> dict:
    sponsor = make.actor(world.users["sponsor"])
    challenge = challenges.get_challenge(db, sponsor, world.params["jury_challenge_id"])
    now = utcnow()
    data = RoundCreate(
        name="Pitches", kind="audition", opens_at=now + timedelta(days=7), closes_at=now + timedelta(days=30)
    )
    view = service.create_round(db, sponsor, challenge, data)
    # a later round takes the proposals the one before shortlisted, which no round has done yet: entered by hand
    entries = [
        JuryEntry(round_id=view.id, proposal_id=world.params[p]) for p in ("jury_proposal_id", "other_jury_proposal_id")
    ]
    db.add_all(entries)
    db.flush()
    view = service.update_round(db, sponsor, view, RoundUpdate(slots_bookable=True))
    free, taken = slots.create_slots(
        db,
        sponsor,
        view,
        slots.SlotsIn(starts_at=now + timedelta(days=3), every_minutes=30, until=now + timedelta(days=3, minutes=60),
                      duration_minutes=30, place="City hall"),
    )  # fmt: skip
    slots.assign_slot(db, sponsor, taken.id, entries[1].id)
    return {"audition_round_id": view.id, "slot_id": free.id, "taken_slot_id": taken.id}


def staff(ok: int, *, others: int = 404, anonymous: int = 303, **per_role: int) -> dict[str, int]:
    return expect(others, anonymous=anonymous, **({role: ok for role in STAFF} | per_role))


def startups(ok: int, *, anonymous: int = 303, **per_role: int) -> dict[str, int]:
    return expect(404, anonymous=anonymous, **({role: ok for role in STARTUPS} | per_role))


NEW_SLOT = {"date": "2030-01-15", "start": "09:00", "duration": "30", "place": "Hall B"}
NEW_SLOT_JSON = {"starts_at": "2030-01-15T09:00:00", "duration_minutes": 30, "place": "Hall B"}
# the API: a startup of the audition round, and a juror of the written round, see those slots (a change is a 403)
API_STAFF_ONLY = {**{role: 403 for role in STARTUPS}, "anonymous": 401}

ENTRIES = {
    # the written round has no slots: its staff see a page saying so, and a change is refused (409)
    ("GET", "/rounds/{round_id}/slots"): (None, staff(200)),
    ("GET", "/rounds/{audition_round_id}/slots"): (None, staff(200)),
    ("POST", "/rounds/{round_id}/slots"): (NEW_SLOT, staff(409)),
    ("POST", "/rounds/{audition_round_id}/slots"): (NEW_SLOT, staff(303)),
    ("POST", "/rounds/{round_id}/slots/booking"): ({"booking": "open"}, staff(409)),
    ("POST", "/rounds/{audition_round_id}/slots/booking"): ({"booking": "close"}, staff(303)),
    ("POST", "/slots/{slot_id}/entry"): (lambda p: {"entry": str(p["entry_id"])}, staff(422)),  # not its round's
    ("POST", "/slots/{taken_slot_id}/entry"): ({"entry": ""}, staff(303)),
    ("POST", "/slots/{slot_id}/remove"): (CONFIRMED, staff(303)),
    ("POST", "/slots/{taken_slot_id}/remove"): (CONFIRMED, staff(409)),
    # the startup's audition page: its members only
    ("GET", "/proposals/{proposal_id}/pitch"): (None, expect(404, anonymous=303, startup=200)),
    ("GET", "/proposals/{jury_proposal_id}/pitch"): (None, expect(404, anonymous=303, startup=200)),
    ("POST", "/proposals/{proposal_id}/pitch"): (
        lambda p: {"slot": str(p["slot_id"])},
        expect(404, anonymous=303, startup=422),
    ),
    ("POST", "/proposals/{jury_proposal_id}/pitch"): (
        lambda p: {"slot": str(p["slot_id"])},
        expect(404, anonymous=303, startup=303),
    ),
    ("POST", "/proposals/{other_jury_proposal_id}/pitch"): (
        lambda p: {"slot": str(p["taken_slot_id"])},
        expect(404, anonymous=303, other_startup=303),  # B's own slot already: nothing changes
    ),
    # API
    ("GET", "/api/v1/rounds/{round_id}/slots"): (None, staff(200, anonymous=401, **{r: 200 for r in SEATED})),
    ("GET", "/api/v1/rounds/{audition_round_id}/slots"): (
        None,
        staff(200, anonymous=401, **{r: 200 for r in STARTUPS}),
    ),
    ("POST", "/api/v1/rounds/{round_id}/slots"): (NEW_SLOT_JSON, staff(409, anonymous=401, **{r: 403 for r in SEATED})),
    ("POST", "/api/v1/rounds/{audition_round_id}/slots"): (NEW_SLOT_JSON, staff(201, **API_STAFF_ONLY)),
    ("POST", "/api/v1/slots/{slot_id}/book"): (None, startups(200, anonymous=401, **{r: 403 for r in STAFF})),
    ("POST", "/api/v1/slots/{taken_slot_id}/book"): (
        None,
        startups(409, anonymous=401, other_startup=200, **{r: 403 for r in STAFF}),
    ),
    ("PUT", "/api/v1/slots/{slot_id}/entry"): ({"entry": None}, staff(200, **API_STAFF_ONLY)),
    ("PUT", "/api/v1/slots/{taken_slot_id}/entry"): (
        lambda p: {"entry": p["entry_id"]},  # an entry of another round
        staff(422, **API_STAFF_ONLY),
    ),
    ("DELETE", "/api/v1/slots/{slot_id}"): (None, staff(204, **API_STAFF_ONLY)),
    ("DELETE", "/api/v1/slots/{taken_slot_id}"): (None, staff(409, **API_STAFF_ONLY)),
}
