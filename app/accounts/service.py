"""Accounts: users, organisations, memberships and invitations.

Rules:
- An email identifies one account, compared case-insensitively.
- Startups self-register: one form creates the user and the startup organisation, the user as its admin.
  The account signs in once its owner opened the confirmation link emailed to it. The form never tells
  whether an email has an account: for one that has, its owner is emailed, and the answer is the same.
- City, partner and operator staff join by invitation only. An invitation is a single-use link that expires
  (MEDINA_INVITATION_DAYS); it is sent by an admin of the organisation or by a platform admin — nobody else
  manages an organisation's members, operator staff included. Whoever creates an organisation (operator
  staff, platform admins) names its first admin, who is invited at once. Accepting an invitation creates
  the account, or adds the membership to the signed-in account whose email matches.
- An organisation keeps at least one admin. Nobody changes their own role.
- Deactivating a user ends their sessions; their tokens stop working while they are inactive.
- Records the actor may not know about are NotFound.
"""

import re
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.accounts import permissions as can
from app.accounts.models import (
    EmailConfirmation,
    FormerMembership,
    Invitation,
    Membership,
    Organisation,
    OrgKind,
    Role,
    User,
    UserSession,
)
from app.accounts.schemas import (
    AccountUpdate,
    InvitationAcceptance,
    InvitationCreate,
    OrganisationCreate,
    StartupRegistration,
)
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.config import get_settings, site_url
from app.db import insert_unique, release_locks, utcnow
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.i18n import gettext
from app.notifications import service as notifications
from app.security.actor import Actor, MembershipInfo
from app.security.passwords import hash_password, password_problem
from app.security.tokens import digest, new_secret

EMAIL_TAKEN = "An account already exists with this email address. Sign in instead."


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.email) == normalise_email(email))).first()


def build_actor(
    session: Session,
    user: User | None,
    *,
    ip: str | None = None,
    scopes: frozenset[str] | None = None,
    token_id: int | None = None,
) -> Actor:
    if user is None or not user.is_active:
        return Actor(ip=ip, scopes=scopes)
    rows = session.exec(
        select(Membership.organisation_id, Organisation.kind, Membership.role)
        .join(Organisation, col(Organisation.id) == Membership.organisation_id)
        .where(Membership.user_id == user.id)
        .order_by(col(Membership.id))
    ).all()
    memberships = tuple(MembershipInfo(org_id, kind, role) for org_id, kind, role in rows)
    # a detached snapshot: the actor stays readable after the request's transaction is rolled back (error pages)
    snapshot = User(**user.model_dump())
    return Actor(user=snapshot, memberships=memberships, ip=ip, scopes=scopes, token_id=token_id)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60] or "organisation"


def _free_slug(session: Session, wanted: str) -> str:
    slug, n = wanted, 1
    while session.exec(select(Organisation.id).where(Organisation.slug == slug)).first() is not None:
        n += 1
        slug = f"{wanted[:55]}-{n}"
    return slug


def _check_new_password(password: str, email: str, name: str) -> None:
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise Invalid({"password": problem})


def _check_email_free(session: Session, email: str) -> None:
    if get_user_by_email(session, email) is not None:
        raise Invalid({"email": EMAIL_TAKEN})


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    preferred_language: str | None = None,
    is_platform_admin: bool = False,
    email_verified: bool = True,
    password_hash: str | None = None,
) -> User:
    """A new account. `email_verified`: whoever creates it vouches for the address (an invitation link, the
    CLI); a self-registration is confirmed later, by the link it is emailed. `password_hash`: the password
    hashed beforehand, outside any transaction (the demo hashes its one password once); otherwise it is hashed
    here, after what the unit of work did so far is committed — callers create the user first."""
    _check_email_free(session, email)
    _check_new_password(password, email, name)
    if password_hash is None:
        release_locks(session)  # argon2 takes a while: hash with no write lock held (nothing is written yet)
        password_hash = hash_password(password)
    user = User(
        email=email.strip(),
        name=name.strip(),
        password_hash=password_hash,
        preferred_language=preferred_language,
        is_platform_admin=is_platform_admin,
        email_verified_at=utcnow() if email_verified else None,
    )
    if not insert_unique(session, user):  # the same email, in any case, registered a moment ago
        raise Invalid({"email": EMAIL_TAKEN})
    return user


def registration_problems(
    session: Session, *, email: str | None, name: str | None, password: str, accepted: bool
) -> dict[str, str]:
    """Every rule a registration breaks beyond its shape, so the form reports them all at once. Whether the
    email has an account is not one of them: the form never tells (see register_startup)."""
    errors: dict[str, str] = {}
    problem = password_problem(password, email=email, name=name)
    if problem:
        errors["password"] = problem
    if not accepted:
        errors["accept_terms"] = "You must accept the terms of use to register."
    return errors


def register_startup(session: Session, actor: Actor, data: StartupRegistration) -> tuple[User, Organisation] | None:
    """Create the account (unconfirmed) and its startup, and email the link that confirms the address; the
    account signs in once it is confirmed. For an email that has an account already nothing is created: its
    owner is emailed instead, and the answer is the same, so that the form does not tell who has an account.
    None in that case."""
    errors = registration_problems(
        session, email=data.email, name=data.name, password=data.password, accepted=data.accept_terms
    )
    if errors:
        raise Invalid(errors)
    existing = get_user_by_email(session, data.email)
    if existing is not None:
        release_locks(session)
        hash_password(data.password)  # the same work as a registration, so that the time does not tell either
        _email_existing_account(session, existing)
        return None
    try:
        user = create_user(
            session,
            email=data.email,
            name=data.name,
            password=data.password,
            preferred_language=data.preferred_language,
            email_verified=False,
        )
    except Invalid:  # registered a moment ago by a concurrent request: the same answer as above
        existing = get_user_by_email(session, data.email)
        if existing is None:
            raise
        _email_existing_account(session, existing)
        return None
    organisation = Organisation(
        kind=OrgKind.startup,
        name=data.organisation_name,
        slug=_free_slug(session, slugify(data.organisation_name)),
        country=data.country,
        city=data.city,
        website=data.website,
    )
    session.add(organisation)
    session.flush()
    session.add(Membership(user_id=user.id or 0, organisation_id=organisation.id or 0, role=Role.admin))
    audit.record(session, "user.registered", actor=actor, actor_id=user.id, target=("user", user.id))
    audit.record(
        session,
        "organisation.created",
        actor=actor,
        actor_id=user.id,
        target=("organisation", organisation.id),
        kind=organisation.kind,
    )
    send_email_confirmation(session, user)
    return user, organisation


def _email_existing_account(session: Session, user: User) -> None:
    if _mailed_recently(session, user, "user.registration_for_existing_email"):
        return
    audit.record(session, "user.registration_for_existing_email", target=("user", user.id))
    notifications.send_email(
        session,
        user.email,
        gettext("Your Medina account"),
        "emails/already_registered.txt",
        user=user,
        login=site_url("/login"),
        forgot=site_url("/password/forgot"),
    )


# ---- email confirmation ----------------------------------------------------------------------------------


CONFIRMATION_GONE = "This confirmation link is invalid, has expired or has already been used. Sign in for a new one."


MAIL_INTERVAL = timedelta(minutes=10)  # at most one confirmation or "already registered" mail per account


def _mailed_recently(session: Session, user: User, action: str) -> bool:
    """Whether `action` was recorded for this user within MAIL_INTERVAL: registration and sign-in must not
    become a way to flood someone's mailbox."""
    since = utcnow() - MAIL_INTERVAL
    return (
        session.exec(
            select(AuditEvent.id).where(
                AuditEvent.action == action,
                AuditEvent.target_type == "user",
                AuditEvent.target_id == str(user.id),
                AuditEvent.created_at > since,
            )
        ).first()
        is not None
    )


def send_email_confirmation(session: Session, user: User) -> None:
    """Email a new single-use link that confirms the account's address (valid MEDINA_EMAIL_CONFIRMATION_HOURS),
    unless one was sent within MAIL_INTERVAL."""
    if _mailed_recently(session, user, "user.confirmation_sent"):
        return
    audit.record(session, "user.confirmation_sent", target=("user", user.id))
    secret = new_secret()
    session.add(
        EmailConfirmation(
            token_hash=digest(secret),
            user_id=user.id or 0,
            expires_at=utcnow() + timedelta(hours=get_settings().email_confirmation_hours),
        )
    )
    notifications.send_email(
        session,
        user.email,
        gettext("Confirm your email address for Medina"),
        "emails/email_confirmation.txt",
        user=user,
        secrets={"link": site_url(f"/email/confirm/{secret}")},
        hours=get_settings().email_confirmation_hours,
    )


def _pending_confirmation(session: Session, secret: str) -> tuple[EmailConfirmation, User]:
    """The pending confirmation behind a link and its account. Used, expired and unknown links, and links of
    deactivated accounts, all answer the same."""
    confirmation = session.exec(select(EmailConfirmation).where(EmailConfirmation.token_hash == digest(secret))).first()
    user = session.get(User, confirmation.user_id) if confirmation else None
    if (
        confirmation is None
        or confirmation.used_at is not None
        or confirmation.expires_at <= utcnow()
        or user is None
        or not user.is_active
    ):
        raise NotFound(CONFIRMATION_GONE)
    return confirmation, user


def account_to_confirm(session: Session, secret: str) -> User:
    """The account a confirmation link would confirm (its page shows the address)."""
    return _pending_confirmation(session, secret)[1]


def end_email_confirmations(session: Session, user_id: int, now: datetime) -> None:
    """Every pending confirmation link of the user stops working (one was used, or a reset proved the address)."""
    session.exec(  # type: ignore[call-overload]
        update(EmailConfirmation)
        .where(col(EmailConfirmation.user_id) == user_id, col(EmailConfirmation.used_at).is_(None))
        .values(used_at=now)
    )


def confirm_email(session: Session, actor: Actor, secret: str) -> User:
    """Confirm the address. The user then signs in with the password: a confirmation link is no way in, so
    that someone who registered another person's address cannot hand them an account whose password they
    know (pre-hijacking); that person, if they want the account, resets the password."""
    _confirmation, user = _pending_confirmation(session, secret)
    now = utcnow()
    end_email_confirmations(session, user.id or 0, now)
    if user.email_verified_at is None:
        user.email_verified_at = now
    session.add(user)
    audit.record(session, "user.email_confirmed", actor=actor, actor_id=user.id, target=("user", user.id))
    return user


# ---- organisations ---------------------------------------------------------------------------------------


def require_organisation_creator(actor: Actor) -> None:
    """The new-organisation form exists only for those who may create organisations (404 for others)."""
    if not can.can_create_organisation(actor):
        raise NotFound()


def create_organisation(session: Session, actor: Actor, data: OrganisationCreate) -> Organisation:
    if not can.can_create_organisation(actor):
        raise Forbidden("You may not create organisations.")
    if data.admin_email is None and can.must_name_first_admin(actor):
        raise Invalid({"admin_email": "Give the email of the organisation's first admin; they will be invited."})
    if data.slug:
        if session.exec(select(Organisation.id).where(Organisation.slug == data.slug)).first() is not None:
            raise Invalid({"slug": "This short name is already taken."})
        slug = data.slug
    else:
        slug = _free_slug(session, slugify(data.name))
    organisation = Organisation(
        kind=data.kind, name=data.name, slug=slug, country=data.country, city=data.city, website=data.website
    )
    session.add(organisation)
    session.flush()
    audit.record(
        session,
        "organisation.created",
        actor=actor,
        target=("organisation", organisation.id),
        kind=organisation.kind,
    )
    if data.admin_email:
        _issue_invitation(session, actor, organisation, InvitationCreate(email=data.admin_email, role=Role.admin))
    return organisation


def _visible(actor: Actor, organisation: Organisation | None) -> Organisation:
    if organisation is None or not can.can_view_organisation(actor, organisation):
        raise NotFound()
    return organisation


def get_organisation(session: Session, actor: Actor, organisation_id: int) -> Organisation:
    return _visible(actor, session.get(Organisation, organisation_id))


def get_organisation_by_slug(session: Session, actor: Actor, slug: str) -> Organisation:
    return _visible(actor, session.exec(select(Organisation).where(Organisation.slug == slug)).first())


def list_organisations(session: Session, actor: Actor) -> list[Organisation]:
    query = (
        select(Organisation)
        .where(can.visible_organisations(actor))
        .order_by(col(Organisation.kind), col(Organisation.name))
    )
    return list(session.exec(query))


def list_members(session: Session, actor: Actor, organisation: Organisation) -> list[tuple[Membership, User]]:
    """The members with their emails: for the organisation's members and platform admins, empty for others
    who may see the organisation (operator staff looking at the directory)."""
    if not can.can_view_organisation(actor, organisation):
        raise NotFound()
    if not can.can_view_members(actor, organisation):
        return []
    rows = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.organisation_id == organisation.id)
        .order_by(col(User.name))
    ).all()
    return [(m, u) for m, u in rows]


def _admin_count(session: Session, organisation_id: int) -> int:
    """How many admins the organisation has, their rows locked until the transaction ends (PostgreSQL), so
    that two admins demoting or removing each other at once cannot leave it with none."""
    admins = session.exec(
        select(Membership.id)
        .where(Membership.organisation_id == organisation_id, Membership.role == Role.admin)
        .with_for_update()
    ).all()
    return len(admins)


def _load_membership(session: Session, actor: Actor, membership_id: int) -> tuple[Membership, Organisation]:
    membership = session.get(Membership, membership_id)
    organisation = session.get(Organisation, membership.organisation_id) if membership else None
    if membership is None or organisation is None or not can.can_view_members(actor, organisation):
        raise NotFound()
    if not can.can_manage_members(actor, organisation):
        raise Forbidden("Only the organisation's admins may change its members.")
    return membership, organisation


def change_role(session: Session, actor: Actor, membership_id: int, role: str) -> Membership:
    if role not in (Role.admin, Role.member):
        raise Invalid({"role": "Choose one of the options."})
    membership, organisation = _load_membership(session, actor, membership_id)
    if not can.can_change_role(actor, organisation, membership.user_id):
        raise Forbidden("You cannot change your own role; ask another admin of the organisation.")
    if membership.role == Role.admin and role != Role.admin and _admin_count(session, organisation.id or 0) <= 1:
        raise Conflict("An organisation needs at least one admin.")
    old = membership.role
    membership.role = role
    session.add(membership)
    audit.record(
        session,
        "membership.role_changed",
        actor=actor,
        target=("membership", membership.id),
        organisation=organisation.id,
        user=membership.user_id,
        old=old,
        new=role,
    )
    return membership


def remove_member(session: Session, actor: Actor, membership_id: int) -> None:
    membership, organisation = _load_membership(session, actor, membership_id)
    if not can.can_remove_member(actor, organisation, membership.user_id):
        raise Forbidden("You cannot remove yourself; ask another admin of the organisation.")
    if membership.role == Role.admin and _admin_count(session, organisation.id or 0) <= 1:
        raise Conflict("An organisation needs at least one admin.")
    session.delete(membership)
    session.add(FormerMembership(user_id=membership.user_id, organisation_id=membership.organisation_id))
    audit.record(
        session,
        "membership.removed",
        actor=actor,
        target=("membership", membership.id),
        organisation=organisation.id,
        user=membership.user_id,
    )


# ---- invitations -----------------------------------------------------------------------------------------


def require_member_manager(actor: Actor, organisation: Organisation) -> None:
    if not can.can_view_organisation(actor, organisation):
        raise NotFound()
    if not can.can_manage_members(actor, organisation):
        raise Forbidden("Only the organisation's admins may invite people.")


def invite(
    session: Session, actor: Actor, organisation: Organisation, data: InvitationCreate
) -> tuple[Invitation, str]:
    """Create an invitation and email its link; returns the invitation and the link (shown once)."""
    require_member_manager(actor, organisation)
    return _issue_invitation(session, actor, organisation, data)


def _issue_invitation(
    session: Session, actor: Actor, organisation: Organisation, data: InvitationCreate
) -> tuple[Invitation, str]:
    existing = get_user_by_email(session, data.email)
    if (
        existing is not None
        and session.exec(
            select(Membership.id).where(
                Membership.user_id == existing.id, Membership.organisation_id == organisation.id
            )
        ).first()
    ):
        raise Invalid({"email": "This person is already a member of the organisation."})
    secret = new_secret()
    invitation = Invitation(
        token_hash=digest(secret),
        email=data.email,
        organisation_id=organisation.id or 0,
        role=data.role,
        invited_by_id=actor.user_id,
        expires_at=utcnow() + timedelta(days=get_settings().invitation_days),
    )
    session.add(invitation)
    session.flush()
    link = site_url(f"/invitations/{secret}")
    notifications.send_email(
        session,
        data.email,
        gettext("Invitation to join %(organisation)s on Medina", organisation=organisation.name),
        "emails/invitation.txt",
        organisation=organisation,
        inviter=actor.user,
        secrets={"link": link},
        role=data.role,
        expires_at=invitation.expires_at,
    )
    audit.record(
        session,
        "invitation.created",
        actor=actor,
        target=("invitation", invitation.id),
        organisation=organisation.id,
        email=data.email,
        role=data.role,
    )
    return invitation, link


def list_invitations(session: Session, actor: Actor, organisation: Organisation) -> list[Invitation]:
    if not can.can_manage_members(actor, organisation):
        return []
    return list(
        session.exec(
            select(Invitation)
            .where(
                Invitation.organisation_id == organisation.id,
                col(Invitation.accepted_at).is_(None),
                col(Invitation.revoked_at).is_(None),
            )
            .order_by(col(Invitation.id).desc())
        )
    )


def revoke_invitation(session: Session, actor: Actor, invitation_id: int) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    organisation = session.get(Organisation, invitation.organisation_id) if invitation else None
    if invitation is None or organisation is None or not can.can_view_members(actor, organisation):
        raise NotFound()
    if not can.can_manage_members(actor, organisation):
        raise Forbidden("Only the organisation's admins may revoke invitations.")
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        session.add(invitation)
        audit.record(session, "invitation.revoked", actor=actor, target=("invitation", invitation.id))
    return invitation


def open_invitation(session: Session, secret: str) -> tuple[Invitation, Organisation]:
    """The pending invitation behind a link. Used, revoked, expired and unknown links all answer the same."""
    invitation = session.exec(select(Invitation).where(Invitation.token_hash == digest(secret))).first()
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        raise NotFound("This invitation link is invalid, has expired or has already been used.")
    organisation = session.get(Organisation, invitation.organisation_id)
    if organisation is None:
        raise NotFound("This invitation link is invalid, has expired or has already been used.")
    return invitation, organisation


def accept_invitation(
    session: Session, actor: Actor, secret: str, data: InvitationAcceptance | None
) -> tuple[User, Organisation]:
    """Join with a new account (data given) or, when signed in with the invited email, with the current one."""
    invitation, organisation = open_invitation(session, secret)
    if actor.is_authenticated and actor.user_id is not None:
        user = session.get(User, actor.user_id)
        assert user is not None
        if normalise_email(user.email) != normalise_email(invitation.email):
            raise Forbidden("This invitation was sent to another email address. Sign out and open the link again.")
    else:
        if data is None:
            raise Invalid({"name": "This field is required."})
        existing = get_user_by_email(session, invitation.email)
        if existing is not None:
            raise Conflict("An account already exists with this email address. Sign in, then open the link again.")
        user = create_user(session, email=invitation.email, name=data.name, password=data.password)
    already = session.exec(
        select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == organisation.id)
    ).first()
    if already is None:
        session.add(Membership(user_id=user.id or 0, organisation_id=organisation.id or 0, role=invitation.role))
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    session.add(invitation)
    audit.record(
        session,
        "invitation.accepted",
        actor_id=user.id,
        ip=actor.ip,
        target=("invitation", invitation.id),
        organisation=organisation.id,
        role=invitation.role,
    )
    return user, organisation


# ---- users -----------------------------------------------------------------------------------------------


def list_users(session: Session, actor: Actor) -> list[User]:
    if not can.can_manage_users(actor):
        raise NotFound()
    return list(session.exec(select(User).order_by(col(User.id))))


def set_user_active(session: Session, actor: Actor, user_id: int, active: bool) -> User:
    if not can.can_manage_users(actor):
        raise NotFound()
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    if user.id == actor.user_id and not active:
        raise Conflict("You cannot deactivate your own account.")
    user.is_active = active
    user.updated_at = utcnow()
    session.add(user)
    if not active:
        for row in session.exec(select(UserSession).where(UserSession.user_id == user.id)):
            session.delete(row)
    audit.record(session, "user.activated" if active else "user.deactivated", actor=actor, target=("user", user.id))
    return user


def update_account(session: Session, actor: Actor, data: AccountUpdate) -> User:
    """The signed-in user's own name and language."""
    user = session.get(User, actor.user_id) if actor.is_authenticated else None
    if user is None:
        raise NotFound()
    changed = [name for name in ("name", "preferred_language") if getattr(user, name) != getattr(data, name)]
    if changed:
        for name in changed:
            setattr(user, name, getattr(data, name))
        user.updated_at = utcnow()
        session.add(user)
        audit.record(session, "account.updated", actor=actor, target=("user", user.id), fields=changed)
    return user


def set_language(session: Session, actor: Actor, language: str) -> None:
    user = session.get(User, actor.user_id) if actor.is_authenticated else None
    if user is not None:
        user.preferred_language = language
        user.updated_at = utcnow()
        session.add(user)


def ensure_organisation(
    session: Session, *, slug: str, name: str | None, kind: str | None
) -> tuple[Organisation, bool]:
    """The organisation with this slug, created (as `kind`) when missing. Used by the CLI and the demo."""
    organisation = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if organisation is not None:
        if kind and organisation.kind != kind:
            raise Invalid({"kind": "This organisation exists with another kind."})
        return organisation, False
    if kind not in {k.value for k in OrgKind}:
        raise Invalid({"kind": "Choose one of: city, partner, startup, operator."})
    organisation = Organisation(kind=kind, name=name or slug, slug=slug)
    session.add(organisation)
    session.flush()
    return organisation, True


def add_membership(session: Session, user: User, organisation: Organisation, role: str) -> Membership:
    membership = session.exec(
        select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == organisation.id)
    ).first()
    if membership is None:
        membership = Membership(user_id=user.id or 0, organisation_id=organisation.id or 0, role=role)
    else:
        membership.role = role
    session.add(membership)
    session.flush()
    return membership
