"""Browser journeys through the real server: registration, sign-in, language, invitations, API tokens.

The assertions rely on structure (ids, addresses, attributes), not on wording, so that they hold in any
language and while the translation catalogues are being completed. Screenshots are written to
test-output/screenshots/ (numbered in journey order) for a human to look at.
"""

import re
import secrets
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ARABIC_CATALOGUE = REPO_ROOT / "app" / "locales" / "ar" / "LC_MESSAGES" / "messages.po"
ARABIC = re.compile(r"[\u0600-\u06FF]")
DEMO_PASSWORD = "casablanca-demo-2017"
PASSWORD = "correct horse battery staple 42"


def _arabic_catalogue_translates(*msgids: str) -> bool:
    """Whether the Arabic catalogue (written separately from the code) already translates these messages."""
    if not ARABIC_CATALOGUE.exists():
        return False
    from babel.messages.pofile import read_po

    with ARABIC_CATALOGUE.open("rb") as f:
        catalog = read_po(f, locale="ar")
    for msgid in msgids:
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            return False
    return True


def _unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")


def _sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.click("form[action='/logout'] button")


def _expect_signed_out(page: Page) -> None:
    tools = page.locator(".site-header__tools")
    expect(tools.locator("a[href='/login']")).to_be_visible()
    expect(page.locator("form[action='/logout']")).to_have_count(0)


def test_register_sign_out_sign_in_switch_to_arabic(page: Page, shot, mailbox) -> None:
    """The acceptance journey: a startup registers, confirms its email, signs out, signs back in, reads
    Medina in Arabic."""
    name = "Aïcha Test"
    email = f"{_unique('founder')}@example.org"

    page.goto("/register")
    page.fill("#f-name", name)
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.select_option("#f-preferred_language", "fr")
    page.fill("#f-organisation_name", _unique("Darb Labs"))
    page.select_option("#f-country", "MA")
    page.fill("#f-city", "Casablanca")
    page.fill("#f-website", "https://darb.example.org")
    page.check("#f-accept_terms")
    shot(page, "01-register-form")
    with page.expect_navigation():
        page.click("form[action='/register'] button[type=submit]")

    expect(page).to_have_url(re.compile(r"/register/sent$"))
    expect(page.locator(".flash")).to_contain_text(email)
    shot(page, "02a-registered-check-email")
    page.goto(mailbox(email, "/email/confirm/"))
    shot(page, "02b-confirm-email")
    with page.expect_navigation():
        page.click("form[action^='/email/confirm/'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator(".flash")).to_have_count(1)
    _sign_in(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator(".site-header .user-name")).to_have_text(name)
    shot(page, "02-registered-home")

    _sign_out(page)
    _expect_signed_out(page)
    shot(page, "03-signed-out")

    _sign_in(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("h1")).to_contain_text(name)
    shot(page, "04-signed-in-again")

    # The header's language form: JavaScript submits it when the select changes (its button is hidden).
    expect(page.locator("form.lang-switch button[type=submit]")).to_be_hidden()
    with page.expect_navigation():
        page.select_option("#language-select", "ar")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page.locator("#language-select")).to_have_value("ar")
    expect(page.locator("h1")).to_contain_text(name)
    if _arabic_catalogue_translates("Home", "My account"):
        # The navigation (not the language select, whose "العربية" option is always there) is in Arabic.
        nav_text = page.locator(".site-nav").inner_text()
        assert ARABIC.search(nav_text), f"the navigation is not translated into Arabic: {nav_text!r}"
    shot(page, "05-arabic-home")

    # The choice sticks to the account: it is still Arabic on the next page.
    page.goto("/account")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    shot(page, "06-arabic-account")

    _sign_out(page)
    _expect_signed_out(page)
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    shot(page, "07-arabic-signed-out")


def test_register_form_errors_keep_input(page: Page, shot) -> None:
    page.goto("/register")
    page.fill("#f-name", "Omar Incomplete")
    page.fill("#f-password", "short")
    page.click("form[action='/register'] button[type=submit]")

    expect(page.locator(".form__errors")).to_be_visible()
    expect(page.locator("#f-name")).to_have_value("Omar Incomplete")
    expect(page.locator("#f-password")).to_have_value("")  # never echoed back
    for field in ("email", "organisation_name"):
        container = page.locator(".field", has=page.locator(f"#f-{field}"))
        expect(container).to_have_class(re.compile(r"\bfield--invalid\b"))
        expect(container.locator(f"#e-{field}")).to_be_visible()
        expect(page.locator(f"#f-{field}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#f-{field}")).to_have_attribute("aria-describedby", re.compile(rf"\be-{field}\b"))
    expect(page.locator("#e-name")).to_have_count(0)
    shot(page, "08-register-errors")


def test_register_form_reports_every_error_at_once(page: Page) -> None:
    page.goto("/register")
    page.fill("#f-name", "Omar Incomplete")
    page.fill("#f-password", "short")
    page.click("form[action='/register'] button[type=submit]")
    expect(page.locator("#e-email")).to_be_visible()
    expect(page.locator("#e-password")).to_be_visible(timeout=1000)
    expect(page.locator("#e-accept_terms")).to_be_visible(timeout=1000)


def test_wrong_password_shows_error_and_keeps_email(page: Page, shot) -> None:
    page.goto("/login")
    page.fill("#f-email", "startup@medina.test")
    page.fill("#f-password", "not-the-password")
    page.click("form[action='/login'] button[type=submit]")

    expect(page.locator(".form__errors")).to_be_visible()
    expect(page.locator("#f-email")).to_have_value("startup@medina.test")
    expect(page.locator("#f-password")).to_have_value("")
    expect(page.locator("form[action='/logout']")).to_have_count(0)
    shot(page, "09-login-wrong-password")


def test_operator_creates_an_organisation_whose_first_admin_joins_and_invites(page: Page, shot, mailbox) -> None:
    organisation_name = _unique("Partner Régie")
    staff_email = f"{_unique('staff')}@example.org"
    colleague_email = f"{_unique('colleague')}@example.org"
    staff_name = "Hind Staff"

    _sign_in(page, "operator@medina.test", DEMO_PASSWORD)
    expect(page.locator("form[action='/logout']")).to_have_count(1)

    page.goto("/organisations/new")
    page.select_option("#f-kind", "partner")
    page.fill("#f-name", organisation_name)
    page.fill("#f-city", "Casablanca")
    page.select_option("#f-country", "MA")
    page.fill("#f-admin_email", staff_email)
    shot(page, "10-organisation-form")
    with page.expect_navigation():
        page.click("form[action='/organisations/new'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/organisations/[a-z0-9-]+$"))
    expect(page.locator("h1")).to_have_text(organisation_name)
    expect(page.locator(".flash")).to_contain_text(staff_email)
    expect(page.locator("form[action$='/invitations']")).to_have_count(0)  # its admins manage its members
    organisation_path = re.sub(r"^https?://[^/]+", "", page.url)
    shot(page, "11-organisation-created")

    _sign_out(page)
    _expect_signed_out(page)

    link = mailbox(staff_email, "/invitations/")
    page.goto(link)
    expect(page.locator("#f-email")).to_have_value(staff_email)
    page.fill("#f-name", staff_name)
    page.fill("#f-password", PASSWORD)
    shot(page, "13-invitation-join-form")
    with page.expect_navigation():
        page.click("form[action^='/invitations/'] button[type=submit]")

    expect(page).to_have_url(re.compile(re.escape(organisation_path) + r"$"))
    expect(page.locator(".site-header .user-name")).to_have_text(staff_name)
    me = page.locator("table tbody tr", has=page.get_by_role("cell", name=staff_email, exact=True))
    expect(me).to_have_count(1)
    expect(me).to_contain_text(staff_name)
    expect(me.locator("select")).to_have_count(0)  # nobody changes their own role
    shot(page, "14-joined-organisation")

    invite_form = page.locator("form[action$='/invitations']")
    invite_form.locator("#f-email").fill(colleague_email)
    invite_form.locator("#f-role").select_option("member")
    with page.expect_navigation():
        invite_form.locator("button[type=submit]").click()
    shown = page.locator("#invite-link").inner_text().strip()
    assert re.match(r"^https?://[^/]+/invitations/\S+$", shown), shown
    expect(page.get_by_role("cell", name=colleague_email)).to_be_visible()  # pending invitation
    shot(page, "12-invitation-link")

    # The first admin's link was single-use.
    page.context.clear_cookies()
    response = page.goto(link)
    assert response is not None and response.status >= 400, f"the invitation link still opens: {response}"


def test_api_token_from_account_page(page: Page, shot, live_server: str) -> None:
    _sign_in(page, "startup@medina.test", DEMO_PASSWORD)
    page.goto("/account")
    form = page.locator("form[action^='/account/tokens']")
    form.locator("#f-name").fill("e2e sync")
    form.locator("#f-scope").select_option("read")
    form.locator("#f-expires_in_days").fill("30")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    secret = page.locator("#new-token").inner_text().strip()
    assert secret.startswith("mdn_"), secret
    expect(page.locator("table")).to_contain_text("e2e sync")
    shot(page, "15-account-new-token")

    with httpx.Client(base_url=live_server, timeout=10) as client:
        signed = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert signed.status_code == 200, signed.text
        assert signed.json()["email"] == "startup@medina.test"

        anonymous = client.get("/api/v1/me")
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.headers["content-type"].startswith("application/problem+json")

    # Shown once: reloading the account page does not show the secret again.
    page.goto("/account")
    expect(page.locator("#new-token")).to_have_count(0)
    assert secret not in page.content()
