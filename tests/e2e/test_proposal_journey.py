"""Browser journey of the proposals issue: two members of a startup write a proposal together (htmx autosave,
then the full form), one submits it and gets a receipt, the other finds the receipt in "My applications";
another startup cannot see any of it; the proposal reads in Arabic (right to left) and in French.

The data is set up the way the other journeys set theirs: the demo accounts, then the pages themselves (a
startup registers and invites its second member, the sponsor writes and publishes the challenge). The
assertions rely on structure (ids, addresses, attributes), not on wording, so that they hold while the
catalogues are being completed; only navigation labels already translated are checked by text.
"""

import re
import secrets
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Browser, Page, Response, expect

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "casablanca-demo-2017"
PASSWORD = "correct horse battery staple 42"
RECEIPT_NUMBER = re.compile(r"^MDN-\d+-\d+-1-[0-9A-F]{6}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
VIEWPORT = {"width": 1280, "height": 900}


@contextmanager
def _person(browser: Browser, base_url: str) -> Iterator[Page]:
    """Another person at another computer: a browser context of their own (cookies, language)."""
    context = browser.new_context(base_url=base_url, locale="fr-FR", viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0]


def _sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("form[action='/logout']")).to_have_count(1)


def _register_startup(page: Page, mailbox, name: str, email: str, startup: str) -> str:
    """Register a startup (its first member is its admin) and confirm the email; return the startup's page."""
    page.goto("/register")
    page.fill("#f-name", name)
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.fill("#f-organisation_name", startup)
    page.select_option("#f-country", "MA")
    page.fill("#f-city", "Casablanca")
    page.check("#f-accept_terms")
    with page.expect_navigation():
        page.click("form[action='/register'] button[type=submit]")
    page.goto(mailbox(email, "/email/confirm/"))
    with page.expect_navigation():
        page.click("form[action^='/email/confirm/'] button[type=submit]")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    expect(page.locator(".site-header .user-name")).to_have_text(name)
    page.goto("/account")
    link = page.locator("main a[href^='/organisations/']").filter(has_text=startup)
    expect(link).to_have_count(1)
    return str(link.get_attribute("href"))


def _invite(page: Page, organisation: str, email: str) -> str:
    page.goto(organisation)
    form = page.locator("form[action$='/invitations']")
    form.locator("#f-email").fill(email)
    form.locator("#f-role").select_option("member")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    return page.locator("#invite-link").inner_text().strip()


def _join(page: Page, link: str, name: str) -> None:
    page.goto(link)
    page.fill("#f-name", name)
    page.fill("#f-password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action^='/invitations/'] button[type=submit]")
    expect(page.locator(".site-header .user-name")).to_have_text(name)


def _publish_challenge(page: Page, title: str) -> str:
    """The sponsor writes a challenge with KPIs, IP terms and a deadline in 60 days, publishes it; returns
    the challenge's page."""
    _sign_in(page, "lydec@medina.test", DEMO_PASSWORD)
    page.goto("/challenges/new")
    page.select_option("#f-programme", label="DataCity Casablanca 2017")
    page.select_option("#f-lead_sponsor", label="Lydec")
    page.fill("#f-title", title)
    page.fill("#f-summary", "Détecter les fuites du réseau d'eau potable avant qu'elles ne deviennent des ruptures.")
    page.fill("#f-problem", "Un quart de l'eau produite se perd dans le réseau.")
    page.check("input[name=themes][value=water]")
    page.fill("#f-kpis", "Eau non facturée | % | 24 | 18\nDélai de détection | jours | 30 | 3")
    page.fill("#f-deadline", (datetime.now() + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M"))
    page.fill(
        "#f-ip_terms",
        "La propriété intellectuelle de la solution **reste à la startup**. "
        "Lydec obtient une licence d'usage gratuite pendant l'expérimentation.",
    )
    with page.expect_navigation():
        page.click("form.form--wide button[type=submit]")
    expect(page.locator("h1")).to_have_text(title)
    with page.expect_navigation():
        page.click("form[action$='/publish'] button")
    expect(page.locator(".page-header .badge--ok")).to_be_visible()
    return _path(page)


def _autosave(expected: dict[str, str]) -> Callable[[Response], bool]:
    """Matches the autosave answer to a request that carried every field of `expected`: once it has come,
    all of that text is stored (earlier autosaves may have carried part of it only)."""

    def matches(response: Response) -> bool:
        if not response.url.endswith("/autosave") or response.request.method != "POST":
            return False
        sent = parse_qs(response.request.post_data or "", keep_blank_values=True)
        return all(sent.get(name, [None])[-1] == value for name, value in expected.items())

    return matches


def _fill_and_wait_for_autosave(
    page: Page, fields: dict[str, str], *, select: dict[str, str] | None = None, check: dict[str, str] | None = None
) -> None:
    """Type into the form as a person would and wait for the htmx autosave that stored all of it."""
    expected = {**fields, **(select or {}), **(check or {})}
    with page.expect_response(_autosave(expected)) as answer:
        for name, value in (check or {}).items():
            page.check(f"#proposal-form input[name={name}][value='{value}']")
        for name, value in (select or {}).items():
            page.select_option(f"#f-{name}", value)
        for name, value in fields.items():
            page.fill(f"#f-{name}", value)
    response = answer.value
    assert response.status == 200, response.text()
    assert "autosave--saved" in response.text(), f"the autosave did not save: {response.text()}"
    status = page.locator("#autosave-status")
    expect(status).to_have_class(re.compile(r"\bautosave--saved\b"))
    expect(status).to_contain_text(re.compile(r"\d{2}:\d{2}"))


def _form_shot(shot: Callable[[Page, str], object], page: Page, name: str) -> None:
    """A full-page screenshot scrolled to the end first: the proposal form's Save bar sticks to the bottom of
    the window, and would otherwise show in the middle of the tall picture."""
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    shot(page, name)


def _png(path: Path, size: int = 96) -> Path:
    """A small PNG logo: a teal square with a lighter disc."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\0"
        + b"".join(
            bytes((120, 200, 210) if (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 3) ** 2 else (11, 85, 99))
            for x in range(size)
        )
        for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )
    return path


def _fill_profile(page: Page, organisation: str, logo: Path, shot: Callable[[Page, str], object]) -> None:
    """The startup's admin fills in its profile (the sponsors read it with the proposals) and adds a logo."""
    page.goto(organisation)
    with page.expect_navigation():
        page.click(f".startup-profile a[href='{organisation}/profile']")
    page.fill("#f-legal_form", "SARL")
    page.fill("#f-founding_year", "2016")
    page.fill("#f-team_size", "6")
    page.fill("#f-sectors", "eau, capteurs, IoT")
    page.fill("#f-description", "Nous écoutons les réseaux d'eau pour y trouver les fuites avant les ruptures.")
    shot(page, "proposal-00a-startup-profile-form")
    with page.expect_navigation():
        page.click("form.form--wide button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(organisation) + "$"))
    page.goto(organisation + "/profile")
    page.set_input_files("#f-logo", str(logo))
    with page.expect_navigation():
        page.click("#logo form button[type=submit]")
    expect(page.locator("#logo img.startup-logo")).to_be_visible()


def test_two_members_write_submit_and_get_a_receipt_that_others_cannot_see(
    page: Page, browser: Browser, live_server: str, shot, tmp_path: Path, mailbox
) -> None:
    tag = secrets.token_hex(3)
    startup = f"HydroLeak {tag}"
    alice_email, bob_email = f"alice-{tag}@example.org", f"bob-{tag}@example.org"
    title = f"Fuites d'eau {tag}"

    # 1. The startup and its two members (Alice registers it, so she is its admin; she invites Bob), and a
    # published challenge whose deadline is ahead, with KPIs and IP terms.
    with _person(browser, live_server) as setup:
        challenge_page = _publish_challenge(setup, title)
    organisation = _register_startup(page, mailbox, "Alice Benali", alice_email, startup)
    link = _invite(page, organisation, bob_email)
    with _person(browser, live_server) as setup:
        _join(setup, link, "Bob Tazi")
    _fill_profile(page, organisation, _png(tmp_path / "hydroleak.png"), shot)
    page.goto(organisation)
    members = page.locator("main table tbody tr")
    expect(members).to_have_count(2)
    expect(members.filter(has_text="Alice Benali").locator("select")).to_have_count(0)  # not her own role
    expect(members.filter(has_text="Alice Benali")).to_contain_text("admin")
    expect(members.filter(has_text="Bob Tazi").locator("select")).to_have_value("member")
    expect(page.locator(".startup-profile img.startup-logo")).to_be_visible()
    shot(page, "proposal-00b-startup-profile-and-members")

    # 2. Alice opens the challenge and applies; the form saves as she types.
    page.goto(challenge_page)
    apply = page.locator(".challenge-aside form[action$='/proposals'] button[type=submit]")
    expect(apply).to_be_visible()
    shot(page, "proposal-01-challenge-take-part")
    with page.expect_navigation():
        apply.click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+/edit$"))
    proposal = _path(page).removesuffix("/edit")
    expect(page.locator(".flash")).to_have_count(1)
    expect(page.locator("#autosave-status")).to_be_visible()
    _form_shot(shot, page, "proposal-02-new-draft-form")

    alice_text = {
        "title": f"HydroLeak — capteurs acoustiques {tag}",
        "summary": "Des capteurs acoustiques posés sur les vannes repèrent les fuites en quelques heures.",
        "description": "Nous posons **douze capteurs** sur les vannes du réseau de Aïn Sebaâ.\n\n"
        "- écoute la nuit, quand la demande est faible\n- alerte l'exploitant par SMS",
    }
    _fill_and_wait_for_autosave(page, alice_text)
    _form_shot(shot, page, "proposal-03-autosaved")
    page.reload()  # the text is kept by the server, not only by the page
    for name, value in alice_text.items():
        expect(page.locator(f"#f-{name}")).to_have_value(value)
    page.goto(proposal)
    expect(page.locator("h1")).to_have_text(alice_text["title"])
    expect(page.locator(".proposal-content .lead")).to_have_text(alice_text["summary"])
    submit_button = page.locator("form[action$='/submit'] button[type=submit]")
    expect(submit_button).to_be_disabled()  # the team, the TRL, the plan… are still missing
    shot(page, "proposal-04-draft-incomplete")
    page.goto(proposal + "/edit")  # and she leaves the form open

    # 3. Bob, at his own computer, finds the draft in "My applications" and completes it.
    with _person(browser, live_server) as bob:
        _sign_in(bob, bob_email, PASSWORD)
        with bob.expect_navigation():
            bob.click(".site-nav a[href='/my/applications']")
        row = bob.locator("main table tbody tr").filter(has_text=alice_text["title"])
        expect(row).to_have_count(1)
        expect(row.locator(".badge")).to_be_visible()  # draft
        shot(bob, "proposal-05-bob-my-applications")
        with bob.expect_navigation():
            row.locator(f"a[href='{proposal}']").click()
        with bob.expect_navigation():
            bob.click(f".page-header a[href='{proposal}/edit']")
        expect(bob.locator("#f-title")).to_have_value(alice_text["title"])
        bob_text = {
            "data_use": "Les **pressions horaires** par secteur pour choisir où poser les capteurs.",
            "experimentation_plan": "Douze capteurs pendant trois mois ; nous comparons les fuites trouvées "
            "aux réparations de Lydec.",
            "team": "Alice Benali | CEO, hydraulicienne\nBob Tazi | CTO, traitement du signal",
            "plan": "1 | Pose des capteurs\n3 | Premières alertes\n6 | Bilan avec Lydec\n9 | Déploiement",
            "needs": "L'accès aux chambres de vannes et les relevés de pression.",
        }
        _fill_and_wait_for_autosave(bob, bob_text, select={"trl": "6"}, check={"kpis": "Eau non facturée"})
        _form_shot(shot, bob, "proposal-06-bob-completed-form")
        with bob.expect_navigation():
            bob.click("#proposal-form .form__actions button[type=submit]:not([name])")
        expect(bob).to_have_url(re.compile(re.escape(proposal) + r"/edit$"))
        expect(bob.locator("#conflict")).to_have_count(0)
        expect(bob.locator(".flash")).to_have_count(1)
        expect(bob.locator("#f-team")).to_have_value(bob_text["team"])
        expect(bob.locator("#f-trl")).to_have_value("6")
        _form_shot(shot, bob, "proposal-07-bob-saved")

        # 4. Alice's form is now behind Bob's save. What she adds is saved alongside his work (she did not
        # touch his fields), and the autosave says that his changes are kept; Save shows them in her form.
        # She then goes to the proposal page, accepts the terms and submits.
        page.fill("#f-video_url", "https://video.example.org/hydroleak")
        status = page.locator("#autosave-status")
        expect(status).to_have_class(re.compile(r"\bautosave--saved\b"))
        expect(status.locator(f"a[href='{proposal}/edit']")).to_be_visible()  # reload to see Bob's changes
        _form_shot(shot, page, "proposal-08-alice-autosave-merged")
        with page.expect_navigation():
            page.click("#proposal-form .form__actions button[type=submit]:not([name])")
        expect(page.locator("#conflict")).to_have_count(0)
        expect(page.locator("#f-plan")).to_have_value(bob_text["plan"])
        expect(page.locator("#f-team")).to_have_value(bob_text["team"])
        expect(page.locator("#f-title")).to_have_value(alice_text["title"])
        expect(page.locator("#f-video_url")).to_have_value("https://video.example.org/hydroleak")
        _form_shot(shot, page, "proposal-09-alice-sees-both")
        with page.expect_navigation():
            page.click(f"main > p.muted a[href='{proposal}']")
        expect(page.locator(".proposal-content table tbody tr")).to_have_count(4)  # the nine-month plan
        expect(submit_button).to_be_enabled()
        page.check("#f-accept_terms")
        shot(page, "proposal-10-ready-to-submit")
        with page.expect_navigation():
            submit_button.click()
        expect(page).to_have_url(re.compile(re.escape(proposal) + r"/versions/1$"))
        receipt_page = _path(page)
        receipt_number = page.locator(".receipt__number").inner_text().strip()
        assert RECEIPT_NUMBER.match(receipt_number), receipt_number
        content_hash = page.locator(".receipt__hash").inner_text().strip()
        assert SHA256.match(content_hash), content_hash
        expect(page.locator(".flash")).to_have_count(1)
        shot(page, "proposal-11-receipt")
        page.goto(proposal)
        expect(page.locator(f"a[href='{receipt_page}']")).to_contain_text(receipt_number)
        expect(page.locator("form[action$='/withdraw']")).to_have_count(1)
        shot(page, "proposal-12-submitted-proposal")

        # 5. Bob sees the receipt number in "My applications" and opens the receipt (on his phone, too).
        bob.goto("/my/applications")
        row = bob.locator("main table tbody tr").filter(has_text=alice_text["title"])
        receipt_link = row.locator(f"a[href='{receipt_page}']")
        expect(receipt_link).to_have_text(receipt_number)
        shot(bob, "proposal-13-bob-my-applications-receipt")
        with bob.expect_navigation():
            receipt_link.click()
        expect(bob.locator(".receipt__number")).to_have_text(receipt_number)
        expect(bob.locator(".receipt__hash")).to_have_text(content_hash)
        shot(bob, "proposal-14-bob-receipt")
        bob.set_viewport_size({"width": 390, "height": 844})
        expect(bob.locator(".receipt__hash")).to_be_visible()
        assert bob.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the receipt overflows"
        shot(bob, "proposal-15-bob-receipt-phone")

    # 6. A member of another startup: the proposal and its receipt do not exist for them.
    with _person(browser, live_server) as other:
        _sign_in(other, "startup2@medina.test", DEMO_PASSWORD)
        for address, name in (
            (proposal, "proposal-16-other-startup-proposal-404"),
            (receipt_page, "proposal-17-other-startup-receipt-404"),
            (proposal + "/edit", None),
        ):
            response = other.goto(address)
            assert response is not None and response.status == 404, f"{address}: {response}"
            expect(other.locator(".error-page")).to_be_visible()
            assert receipt_number not in other.content() and alice_text["title"] not in other.content()
            if name:
                shot(other, name)

    # 7. The proposal in Arabic (right to left), then in French, with the header's language selector.
    page.goto(proposal)
    with page.expect_navigation():
        page.select_option("#language-select", "ar")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page).to_have_url(re.compile(re.escape(proposal) + "$"))
    expect(page.locator(".site-nav")).to_contain_text("الرئيسية")  # Home
    expect(page.locator("h1")).to_have_text(alice_text["title"])
    shot(page, "proposal-18-arabic-proposal")
    for address, name in (
        (receipt_page, "proposal-19-arabic-receipt"),
        (proposal + "/edit", "proposal-20-arabic-form"),
        ("/my/applications", "proposal-21-arabic-my-applications"),
    ):
        page.goto(address)
        expect(html).to_have_attribute("dir", "rtl")
        expect(page.locator(".site-nav")).to_contain_text("التحديات")  # Challenges
        _form_shot(shot, page, name)
    expect(page.locator("main table")).to_contain_text(receipt_number)

    page.goto(proposal)
    with page.expect_navigation():
        page.select_option("#language-select", "fr")
    expect(html).to_have_attribute("dir", "ltr")
    expect(html).to_have_attribute("lang", "fr")
    nav = page.locator(".site-nav")
    expect(nav).to_contain_text("Accueil")  # Home
    expect(nav).to_contain_text("Défis")  # Challenges
    expect(page.locator(".site-header__account")).to_contain_text("Se déconnecter")  # Sign out
    shot(page, "proposal-22-french-proposal")
