"""The iCalendar invitation (RFC 5545, with iTIP's METHOD) sent for an audition pitch slot.

One event per slot: its UID is stable (the slot's id on this site), so a calendar that received the invitation
updates it when the booking changes, by the higher SEQUENCE that each change brings; a freed slot is sent as a
CANCEL. Times are written in UTC, so that no calendar has to know the programme's time zone.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlsplit

from icalendar import Calendar, Event, vCalAddress, vText

from app.config import get_settings
from app.db import utcnow
from app.jury.models import PitchSlot
from app.notifications.service import Attachment

Method = Literal["REQUEST", "CANCEL"]
MEDIA_TYPE = "text/calendar"
PRODID = "-//Medina//Audition pitch slots//EN"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


def slot_uid(slot: PitchSlot) -> str:
    host = urlsplit(get_settings().base_url).hostname or "medina.local"
    return f"pitch-slot-{slot.id}@{host}"


def location(slot: PitchSlot) -> str:
    """Where the pitch takes place: the room, else the video link."""
    return slot.place or slot.video_url


def _address(person: Person, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def organizer() -> Person:
    """The platform, which sends the invitation (MEDINA_MAIL_FROM)."""
    name, email = parseaddr(get_settings().mail_from)
    return Person(name or "Medina", email)


def invitation(
    slot: PitchSlot,
    *,
    summary: str,
    description: str,
    attendees: Sequence[Person],
    method: Method = "REQUEST",
    now: datetime | None = None,
) -> bytes:
    """The calendar with the slot's one event, as bytes (UTF-8, CRLF lines)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", slot_uid(slot))
    event.add("sequence", slot.sequence)
    event.add("dtstamp", now or utcnow())
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.starts_at + timedelta(minutes=slot.duration_minutes))
    event.add("summary", summary)
    event.add("description", description)
    if where := location(slot):
        event.add("location", where)
    if slot.video_url:
        event.add("url", slot.video_url)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("organizer", _address(organizer()))
    for person in attendees:
        # replies would go to the platform's no-reply address: no RSVP is asked
        event.add("attendee", _address(person, ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="FALSE"))
    calendar.add_component(event)
    return calendar.to_ical()


def attachment(content: bytes, method: Method = "REQUEST") -> Attachment:
    filename = "pitch.ics" if method == "REQUEST" else "pitch-cancelled.ics"
    return Attachment(filename, MEDIA_TYPE, content, {"method": method, "charset": "utf-8"})
