"""Startup profiles: name, legal form, country, city, founding year, team size, website, description, sectors,
registration number and logo. Members are invited by the startup's admins (app/accounts).

Rules:
- One profile per startup, created on its first save; the organisation keeps the name, country, city and
  website, the profile the rest.
- The startup's admins and platform admins edit it (see permissions.py); others who may see the organisation
  read it; anyone else gets a 404.
- A profile is complete when it has a description, sectors, legal form, country, city, founding year, team
  size, website and logo (the registration number is optional); the startup's home says what is missing.
- The logo is a PNG, JPEG or WebP image of at most 5 MiB, streamed and checked like a challenge's image; a
  replaced logo leaves the disk once the change is committed.
"""

from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.models import Organisation, OrgKind
from app.audit import service as audit
from app.db import after_commit, utcnow
from app.errors import Forbidden, NotFound
from app.files import staging, uploads
from app.files import types as file_types
from app.files.multipart import ReceivedUpload
from app.files.uploads import UploadBody
from app.security.actor import Actor
from app.startups import permissions as can
from app.startups.models import StartupProfile
from app.startups.schemas import ProfileUpdate


def profile_of(session: Session, organisation_id: int) -> StartupProfile:
    """The stored profile, or an empty one (not added to the session); no permission check."""
    found = session.exec(select(StartupProfile).where(StartupProfile.organisation_id == organisation_id)).first()
    return found or StartupProfile(organisation_id=organisation_id)


PROFILE_FIELDS = ("description", "sectors", "legal_form", "country", "city", "founding_year", "team_size", "website")


def missing_profile_fields(organisation: Organisation, profile: StartupProfile) -> list[str]:
    """What a complete profile has and this one lacks, in the order of PROFILE_FIELDS, then "logo"."""
    on_organisation = ("country", "city", "website")
    values = {name: getattr(organisation if name in on_organisation else profile, name) for name in PROFILE_FIELDS}
    missing = [name for name, value in values.items() if value in (None, "", [])]
    return [*missing, "logo"] if not profile.logo_key else missing


def my_startups(session: Session, actor: Actor) -> list[tuple[Organisation, StartupProfile]]:
    """The startups the actor is a member of, by name, with their profiles (stored or empty), in two queries."""
    ids = actor.organisation_ids(OrgKind.startup) if actor.is_authenticated else set()
    if not ids:
        return []
    organisations = session.exec(
        select(Organisation).where(col(Organisation.id).in_(ids)).order_by(func.lower(Organisation.name))
    ).all()
    profiles = {
        p.organisation_id: p
        for p in session.exec(select(StartupProfile).where(col(StartupProfile.organisation_id).in_(ids)))
    }
    return [
        (o, profiles.get(o.id or 0) or StartupProfile(organisation_id=o.id or 0))
        for o in organisations
        if can.can_view_profile(actor, o)
    ]


def get_profile(session: Session, actor: Actor, slug: str) -> tuple[Organisation, StartupProfile]:
    organisation = accounts.get_organisation_by_slug(session, actor, slug)
    if not can.can_view_profile(actor, organisation):
        raise NotFound()
    return organisation, profile_of(session, organisation.id or 0)


def get_profile_by_id(session: Session, actor: Actor, organisation_id: int) -> tuple[Organisation, StartupProfile]:
    organisation = accounts.get_organisation(session, actor, organisation_id)
    if not can.can_view_profile(actor, organisation):
        raise NotFound()
    return organisation, profile_of(session, organisation.id or 0)


def check_editor(actor: Actor, organisation: Organisation) -> None:
    if not can.can_edit_profile(actor, organisation):
        raise Forbidden("Only the startup's admins may change its profile.")


def update_profile(
    session: Session, actor: Actor, organisation: Organisation, profile: StartupProfile, data: ProfileUpdate
) -> StartupProfile:
    check_editor(actor, organisation)
    given = data.model_dump(exclude_unset=True)
    if given.get("name"):
        organisation.name = given["name"]
    for name in ("country", "city", "website"):
        if name in given:
            setattr(organisation, name, str(given[name]) or None)
    for name in ("legal_form", "founding_year", "team_size", "description", "sectors", "registration_number"):
        if name in given:
            setattr(profile, name, given[name])
    organisation.updated_at = profile.updated_at = utcnow()
    session.add(organisation)
    session.add(profile)
    session.flush()
    audit.record(session, "startup.profile_updated", actor=actor, target=("organisation", organisation.id))
    return profile


def set_logo(session: Session, actor: Actor, slug: str, staged: staging.StagedFile) -> Organisation:
    organisation, profile = get_profile(session, actor, slug)
    check_editor(actor, organisation)
    if staged.file_type not in file_types.IMAGE_TYPES:
        raise file_types.UnsupportedType(
            "Images of this type are not accepted. Accepted types: %(types)s.", types="PNG, JPEG, WebP"
        )
    key = staging.new_storage_key("logos")
    staging.remove_on_rollback(session, staged.move_into_place(key))
    previous = profile.logo_key
    profile.logo_key = key
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    audit.record(session, "startup.logo_set", actor=actor, target=("organisation", organisation.id))
    if previous:
        after_commit(session, lambda: staging.remove_stored(previous))
    return organisation


async def receive_logo(session: Session, actor: Actor, slug: str, body: UploadBody) -> Organisation:
    """Stream a multipart upload (field `file`) and make it the startup's logo (app/files/uploads.py)."""

    def check() -> None:
        check_editor(actor, get_profile(session, actor, slug)[0])

    def keep(received: ReceivedUpload) -> Organisation:
        return set_logo(session, actor, slug, received.staged)

    return await uploads.receive(
        body, check=check, keep=keep, limit=file_types.MAX_IMAGE_BYTES, types=file_types.IMAGE_TYPES
    )


def get_logo(session: Session, actor: Actor, slug: str) -> tuple[Organisation, Path]:
    """The startup's logo file, for any signed-in user; a 404 when there is none."""
    organisation = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if organisation is None or not can.can_view_logo(actor, organisation):
        raise NotFound()
    return organisation, logo_path(profile_of(session, organisation.id or 0))


def logo_path(profile: StartupProfile) -> Path:
    if not profile.logo_key:
        raise NotFound()
    try:
        path = staging.path_for(profile.logo_key)
    except ValueError:
        raise NotFound() from None
    if not path.is_file():
        raise NotFound()
    return path
