"""HTML pages of the accounts domain: register, sign in/out, password reset, invitations, organisations,
the account page with API tokens, and the platform admin's users page."""

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session
from starlette.responses import Response

from app.accounts import auth, service, tokens
from app.accounts import permissions as can
from app.accounts.models import Organisation, OrgKind
from app.accounts.schemas import (
    AccountUpdate,
    InvitationAcceptance,
    InvitationCreate,
    Login,
    OrganisationCreate,
    PasswordChange,
    StartupRegistration,
    TokenCreate,
)
from app.config import get_settings
from app.db import SessionDep, discard_attempt
from app.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, RateLimited
from app.security.actor import Actor
from app.security.headers import LANGUAGE_COOKIE
from app.validation import InvalidInput, RecordId, parse
from app.web.confirm import require_confirmation
from app.web.deps import SESSION_COOKIE, ActorDep, FormDep, SignedInDep
from app.web.flash import flash, reveal
from app.web.forms import form_error
from app.web.templating import redirect, render

router = APIRouter()

OrganisationSection = Callable[[Session, Actor, Organisation], dict[str, object]]
# What the domains built on accounts add to an organisation's page (a startup's profile): app/pages/organisation.py
# installs them, so that this domain imports none of those above it.
ORGANISATION_SECTIONS: list[OrganisationSection] = []


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after sign-in. Control characters and spaces are
    refused too: browsers drop a tab or a newline from a URL (`/<tab>/evil.example` would be `//evil.example`)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
        and not any(c.isspace() for c in target)
    ):
        return target
    return "/"


def sign_in_response(request: Request, session: SessionDep, user_id: int, target: str) -> Response:
    """Start a session for this user (a new session id, the cookie set) and send them to `target`: signing in,
    and what signs in as it finishes (registration confirmed, an invitation accepted)."""
    user = session.get(service.User, user_id)
    assert user is not None
    started = auth.start_session(
        session,
        user,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    response = redirect(request, target)
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        started.key,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_days * 86400,
        path="/",
    )
    if user.preferred_language:
        response.set_cookie(LANGUAGE_COOKIE, user.preferred_language, samesite="lax", max_age=365 * 86400)
    return response


# ---- registration, sign-in, sign-out -------------------------------------------------------------------


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request, actor: ActorDep) -> Response:
    if actor.is_authenticated:
        return redirect(request, "/")
    return render(request, "accounts/register.html", {"form": {"preferred_language": request.state.language}})


@router.post("/register", response_class=HTMLResponse)
def register(request: Request, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    form.setdefault("accept_terms", False)
    try:
        data = parse(StartupRegistration, form)
        service.register_startup(session, actor, data)
    except InvalidInput as exc:  # the form's shape is wrong: also report the other rules it breaks
        discard_attempt(session)
        more = service.registration_problems(
            session,
            email=None if "email" in exc.errors else str(form.get("email", "")),
            name=str(form.get("name", "")),
            password=str(form.get("password", "")),
            accepted=form.get("accept_terms") in ("true", "on"),
        )
        exc.errors = {**more, **exc.errors}
        return form_error(request, "accounts/register.html", form, exc)
    except Invalid as exc:
        discard_attempt(session)
        return form_error(request, "accounts/register.html", form, exc)
    # the same answer whether the email was new (registered) or had an account (its owner was emailed)
    flash(request, "We have sent an email to %(email)s: open the link in it to confirm your address.", email=data.email)
    return redirect(request, "/register/sent")


@router.get("/register/sent", response_class=HTMLResponse)
def registration_sent(request: Request) -> Response:
    return render(request, "accounts/register_sent.html")


@router.get("/email/confirm/{secret}", response_class=HTMLResponse)
def email_confirmation_form(request: Request, session: SessionDep, secret: str) -> Response:
    """A page with a button, not the confirmation itself: mail scanners open links, people press buttons."""
    user = service.account_to_confirm(session, secret)
    return render(request, "accounts/email_confirm.html", {"secret": secret, "confirming": user})


@router.post("/email/confirm/{secret}")
def email_confirm(request: Request, session: SessionDep, actor: ActorDep, secret: str) -> Response:
    service.confirm_email(session, actor, secret)
    flash(request, "Your email address is confirmed. Sign in with your password.")
    return redirect(request, "/login")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, actor: ActorDep, next: str | None = None) -> Response:
    if actor.is_authenticated:
        return redirect(request, _safe_next(next))
    return render(request, "accounts/login.html", {"form": {"next": _safe_next(next)}})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    target = _safe_next(form.get("next"))
    try:
        data = parse(Login, form)
        user = auth.authenticate(session, actor, data.email, data.password)
    except RateLimited as exc:
        error = Invalid({}, detail=exc.detail)
        response = form_error(request, "accounts/login.html", form, error, {"rate_limited": exc.variables})
        response.status_code = 429
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Invalid as exc:
        # the failed attempt and its audit event are kept (committed): they feed the rate limits
        return form_error(request, "accounts/login.html", form, Invalid({}, detail=exc.detail))
    return sign_in_response(request, session, user.id or 0, target)


@router.post("/logout")
def logout(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    auth.end_session(session, actor, request.cookies.get(SESSION_COOKIE))
    flash(request, "You are signed out.", "info")
    response = redirect(request, "/")
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=get_settings().secure_cookies
    )
    return response


@router.post("/language")
def choose_language(request: Request, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    language = form.get("language")
    if language not in ("fr", "en", "ar"):
        language = request.state.language
    service.set_language(session, actor, language)
    request.state.language = language
    response = redirect(request, _safe_next(form.get("next")))
    response.set_cookie(
        LANGUAGE_COOKIE, language, samesite="lax", max_age=365 * 86400, secure=get_settings().secure_cookies
    )
    return response


# ---- password reset -------------------------------------------------------------------------------------


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_form(request: Request, actor: ActorDep) -> Response:
    return render(request, "accounts/password_forgot.html")


@router.post("/password/forgot", response_class=HTMLResponse)
def forgot(request: Request, session: SessionDep, actor: ActorDep, form: FormDep) -> Response:
    email = str(form.get("email", "")).strip()
    if not email:
        return form_error(request, "accounts/password_forgot.html", form, Invalid({"email": "This field is required."}))
    auth.request_password_reset(session, actor, email)
    return render(request, "accounts/password_forgot.html", {"sent": True, "form": {"email": email}})


def _reset_context(session: Session, secret: str) -> dict[str, object]:
    """The reset page lists the account's API tokens, which a new password alone does not stop."""
    reset = auth.open_password_reset(session, secret)
    return {"secret": secret, "tokens": tokens.active_tokens_of(session, reset.user_id)}


@router.get("/password/reset/{secret}", response_class=HTMLResponse)
def reset_form(request: Request, session: SessionDep, actor: ActorDep, secret: str) -> Response:
    context = _reset_context(session, secret)
    return render(request, "accounts/password_reset.html", {**context, "form": {"revoke_tokens": "on"}})


@router.post("/password/reset/{secret}", response_class=HTMLResponse)
def reset(request: Request, session: SessionDep, actor: ActorDep, form: FormDep, secret: str) -> Response:
    revoke = form.get("revoke_tokens") in ("on", "true")
    try:
        auth.reset_password(session, actor, secret, str(form.get("password", "")), revoke_tokens=revoke)
    except Invalid as exc:
        discard_attempt(session)
        return form_error(request, "accounts/password_reset.html", form, exc, _reset_context(session, secret))
    flash(request, "Your password has been changed. Sign in with the new one.")
    response = redirect(request, "/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---- invitations ----------------------------------------------------------------------------------------


@router.get("/invitations/{secret}", response_class=HTMLResponse)
def invitation_page(request: Request, session: SessionDep, actor: ActorDep, secret: str) -> Response:
    invitation, organisation = service.open_invitation(session, secret)
    return render(
        request,
        "accounts/invitation.html",
        {"invitation": invitation, "organisation": organisation, "secret": secret},
    )


@router.post("/invitations/{secret}", response_class=HTMLResponse)
def invitation_accept(request: Request, session: SessionDep, actor: ActorDep, form: FormDep, secret: str) -> Response:
    invitation, organisation = service.open_invitation(session, secret)
    try:
        data = None if actor.is_authenticated else parse(InvitationAcceptance, form)
        user, organisation = service.accept_invitation(session, actor, secret, data)
    except Invalid as exc:
        discard_attempt(session)
        return form_error(
            request,
            "accounts/invitation.html",
            form,
            exc,
            {"invitation": invitation, "organisation": organisation, "secret": secret},
        )
    flash(request, "You have joined %(name)s.", name=organisation.name)
    if actor.is_authenticated:
        return redirect(request, f"/organisations/{organisation.slug}")
    return sign_in_response(request, session, user.id or 0, f"/organisations/{organisation.slug}")


# ---- the account page and API tokens -------------------------------------------------------------------


def _account_page(request: Request, session: SessionDep, actor: SignedInDep, **extra: object) -> HTMLResponse:
    organisations = [o for o in service.list_organisations(session, actor) if o.id in actor.organisation_ids()]
    context = {"organisations": organisations, "tokens": tokens.list_tokens(session, actor)}
    context.update(extra)
    return render(request, "accounts/account.html", context, status_code=422 if extra.get("errors") else 200)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, session: SessionDep, actor: SignedInDep) -> Response:
    return _account_page(request, session, actor)


def _account_form_refused(
    request: Request, session: Session, actor: Actor, form: dict, exc: Invalid, section: str
) -> HTMLResponse:
    """The account page again, the refused form (`profile` or `password`) with its input and errors."""
    discard_attempt(session)
    page = _account_page(
        request,
        session,
        actor,
        **{f"{section}_form": form, f"{section}_errors": exc.errors},
        section_error_vars=exc.field_variables,
    )
    page.status_code = 422
    return page


@router.post("/account", response_class=HTMLResponse)
def account_update(request: Request, session: SessionDep, actor: SignedInDep, form: FormDep) -> Response:
    # the page's token form has a `name` field already: this form's is `full_name`
    data = {"name": form.get("full_name", ""), "preferred_language": form.get("preferred_language", "")}
    try:
        user = service.update_account(session, actor, parse(AccountUpdate, data))
    except Invalid as exc:
        exc.errors = {"full_name" if k == "name" else k: v for k, v in exc.errors.items()}
        exc.field_variables = {"full_name" if k == "name" else k: v for k, v in exc.field_variables.items()}
        return _account_form_refused(request, session, actor, form, exc, "profile")
    request.state.language = user.preferred_language or request.state.language
    flash(request, "Your account is saved.")
    response = redirect(request, "/account")
    if user.preferred_language:
        response.set_cookie(
            LANGUAGE_COOKIE,
            user.preferred_language,
            samesite="lax",
            max_age=365 * 86400,
            secure=get_settings().secure_cookies,
        )
    return response


@router.post("/account/password", response_class=HTMLResponse)
def account_password(request: Request, session: SessionDep, actor: SignedInDep, form: FormDep) -> Response:
    try:
        data = parse(PasswordChange, {**form, "revoke_tokens": form.get("revoke_tokens") in ("on", "true")})
        auth.change_password(
            session,
            actor,
            data.current_password,
            data.new_password,
            session_key=request.cookies.get(SESSION_COOKIE),
            revoke_tokens=data.revoke_tokens,
        )
    except Invalid as exc:
        safe = {k: v for k, v in form.items() if k == "revoke_tokens"}  # passwords are never sent back
        return _account_form_refused(request, session, actor, safe, exc, "password")
    flash(request, "Your password is changed. Your other sessions are signed out.")
    return redirect(request, "/account#password")


@router.post("/account/tokens", response_class=HTMLResponse)
def token_create(request: Request, session: SessionDep, actor: SignedInDep, form: FormDep) -> Response:
    try:
        token, secret = tokens.create_token(session, actor, parse(TokenCreate, form))
    except Invalid as exc:
        discard_attempt(session)
        return _account_page(
            request,
            session,
            actor,
            form=form,
            errors=exc.errors,
            error_vars=exc.field_variables,
        )
    reveal(request, "token", secret, name=token.name)
    return redirect(request, "/account#tokens")


@router.post("/account/tokens/{token_id}/revoke")
def token_revoke(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, token_id: RecordId
) -> Response:
    require_confirmation(form)
    token = tokens.revoke_token(session, actor, token_id)
    flash(request, "The token %(name)s is revoked.", "info", name=token.name)
    return redirect(request, "/account#tokens")


# ---- organisations -------------------------------------------------------------------------------------


@router.get("/organisations", response_class=HTMLResponse)
def organisations(request: Request, session: SessionDep, actor: SignedInDep) -> Response:
    return render(request, "accounts/organisations.html", {"organisations": service.list_organisations(session, actor)})


@router.get("/organisations/new", response_class=HTMLResponse)
def organisation_new(request: Request, actor: SignedInDep) -> Response:
    service.require_organisation_creator(actor)
    return render(request, "accounts/organisation_form.html", {"form": {"kind": OrgKind.partner.value}})


@router.post("/organisations/new", response_class=HTMLResponse)
def organisation_create(request: Request, session: SessionDep, actor: SignedInDep, form: FormDep) -> Response:
    service.require_organisation_creator(actor)
    try:
        organisation = service.create_organisation(session, actor, parse(OrganisationCreate, form))
    except Invalid as exc:
        discard_attempt(session)
        return form_error(request, "accounts/organisation_form.html", form, exc)
    if form.get("admin_email"):
        flash(
            request,
            "The organisation %(name)s is created; %(email)s is invited to be its admin.",
            name=organisation.name,
            email=str(form["admin_email"]).strip(),
        )
    else:
        flash(request, "The organisation %(name)s is created. Invite its staff below.", name=organisation.name)
    return redirect(request, f"/organisations/{organisation.slug}")


def _organisation_page(
    request: Request, session: SessionDep, actor: SignedInDep, slug: str, **extra: object
) -> HTMLResponse:
    organisation = service.get_organisation_by_slug(session, actor, slug)
    context = {
        "organisation": organisation,
        "members": service.list_members(session, actor, organisation),
        "invitations": service.list_invitations(session, actor, organisation),
        "may_manage": can.can_manage_members(actor, organisation),
        "may_see_members": can.can_view_members(actor, organisation),
        **{k: v for section in ORGANISATION_SECTIONS for k, v in section(session, actor, organisation).items()},
    }
    context.update(extra)
    return render(request, "accounts/organisation.html", context, status_code=422 if extra.get("errors") else 200)


@router.get("/organisations/{slug}", response_class=HTMLResponse)
def organisation(request: Request, session: SessionDep, actor: SignedInDep, slug: str) -> Response:
    return _organisation_page(request, session, actor, slug)


@router.post("/organisations/{slug}/invitations", response_class=HTMLResponse)
def organisation_invite(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, slug: str
) -> Response:
    organisation = service.get_organisation_by_slug(session, actor, slug)
    service.require_member_manager(actor, organisation)
    try:
        invitation, link = service.invite(session, actor, organisation, parse(InvitationCreate, form))
    except Invalid as exc:
        discard_attempt(session)
        return _organisation_page(
            request,
            session,
            actor,
            slug,
            form=form,
            errors=exc.errors,
            error_vars=exc.field_variables,
        )
    flash(request, "Invitation sent to %(email)s.", email=invitation.email)
    reveal(request, "invitation", link)
    return redirect(request, f"/organisations/{slug}#invite-title")


@router.post("/organisations/{slug}/invitations/{invitation_id}/revoke")
def organisation_invitation_revoke(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, slug: str, invitation_id: RecordId
) -> Response:
    organisation = service.get_organisation_by_slug(session, actor, slug)
    require_confirmation(form)
    invitation = service.revoke_invitation(session, actor, invitation_id)
    if invitation.organisation_id != organisation.id:
        raise NotFound()
    flash(request, "The invitation is revoked.", "info")
    return redirect(request, f"/organisations/{slug}")


@router.post("/organisations/{slug}/members/{membership_id}/role")
def organisation_member_role(
    request: Request,
    session: SessionDep,
    actor: SignedInDep,
    form: FormDep,
    slug: str,
    membership_id: RecordId,
) -> Response:
    organisation = service.get_organisation_by_slug(session, actor, slug)
    try:
        service.change_role(session, actor, membership_id, str(form.get("role", "")))
    except (Conflict, Forbidden) as exc:
        return _refused_on_organisation_page(request, session, actor, organisation, exc)
    flash(request, "The role is changed.")
    return redirect(request, f"/organisations/{slug}")


@router.post("/organisations/{slug}/members/{membership_id}/remove")
def organisation_member_remove(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, slug: str, membership_id: RecordId
) -> Response:
    organisation = service.get_organisation_by_slug(session, actor, slug)
    require_confirmation(form)
    try:
        service.remove_member(session, actor, membership_id)
    except (Conflict, Forbidden) as exc:
        return _refused_on_organisation_page(request, session, actor, organisation, exc)
    flash(request, "The member is removed.", "info")
    return redirect(request, f"/organisations/{slug}")


def _refused_on_organisation_page(
    request: Request, session: Session, actor: Actor, organisation: Organisation, refusal: DomainError
) -> Response:
    """A change the rules refuse to one of the organisation's admins (the only admin stepping down, an admin
    changing their own role) is told on the organisation page, where the member list shows how things stand;
    anyone else who may not manage the members gets the refusal itself."""
    if not can.can_manage_members(actor, organisation):
        raise refusal
    discard_attempt(session)
    flash(request, refusal.detail, "error", **refusal.variables)
    return redirect(request, f"/organisations/{organisation.slug}#members-title")


# ---- platform administration ---------------------------------------------------------------------------


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, session: SessionDep, actor: SignedInDep) -> Response:
    return render(request, "admin/users.html", {"users": service.list_users(session, actor)})


@router.post("/admin/users/{user_id}/active")
def admin_user_active(
    request: Request, session: SessionDep, actor: SignedInDep, form: FormDep, user_id: RecordId
) -> Response:
    active = form.get("active") == "true"
    user = service.set_user_active(session, actor, user_id, active)
    flash(
        request,
        "The account of %(name)s is active again."
        if active
        else "The account of %(name)s is deactivated and signed out.",
        "info",
        name=user.name,
    )
    return redirect(request, "/admin/users")
