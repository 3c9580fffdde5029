"""Programmes: the calendar and its current phase in the programme's time zone, validation, the pages with
the timeline (French and Arabic), the operator's form, the API."""

import re
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlmodel import select

from app.audit.models import AuditEvent
from app.db import utcnow
from app.errors import Forbidden, Invalid, NotFound
from app.programmes import service
from app.programmes.models import PHASE_ORDER, PhaseKind
from app.programmes.schemas import PhaseIn, ProgrammeCreate, ProgrammeUpdate
from app.programmes.web import build_timeline
from tests.conftest import post_form, sign_in

CASABLANCA = ZoneInfo("Africa/Casablanca")


@pytest.fixture
def setting(db, make):
    """An operator with a staff member, a city, two partners, and a startup member."""
    operator_org = make.organisation("operator", name="DataCity operator")
    city = make.organisation("city", slug="casablanca", name="Ville de Casablanca")
    lydec = make.organisation("partner", slug="lydec", name="Lydec")
    inwi = make.organisation("partner", slug="inwi", name="inwi")
    return {
        "operator_org": operator_org,
        "city": city,
        "lydec": lydec,
        "inwi": inwi,
        "operator": make.user(email="op@example.org", organisation=operator_org),
        "other_operator": make.member("operator")[0],
        "sponsor": make.user(organisation=lydec),
        "startup": make.member("startup")[0],
        "admin": make.user(platform_admin=True),
    }


def _calendar(start: date) -> list[PhaseIn]:
    return service.default_calendar(start)


def _create(db, make, setting, **overrides):
    data = {
        "name": "Casablanca 2027",
        "city": setting["city"].id,
        "partners": [setting["lydec"].id],
        **overrides,
    }
    phases = data.pop("phases", _calendar(date(2026, 11, 3)))
    programme = ProgrammeCreate(**data)
    programme.phases = phases  # unvalidated: the service checks the calendar on its own
    return service.create_programme(db, make.actor(setting["operator"]), programme)


# ---- service ----------------------------------------------------------------------------------------------


def test_default_calendar_has_every_phase_in_order_and_nine_months_of_prototyping():
    phases = service.default_calendar(date(2027, 1, 1))
    assert [p.kind for p in phases] == PHASE_ORDER
    for before, after in pairwise(phases):
        assert after.starts_on == before.ends_on + timedelta(days=1)
    prototyping = next(p for p in phases if p.kind == PhaseKind.prototyping)
    months = (prototyping.ends_on.year - prototyping.starts_on.year) * 12 + (
        prototyping.ends_on.month - prototyping.starts_on.month
    )
    assert months >= 8 and (prototyping.ends_on - prototyping.starts_on).days + 1 >= 270


def test_created_programme_has_operator_city_partners_and_calendar(db, make, setting):
    view = _create(db, make, setting)
    assert view.programme.slug == "casablanca-2027" and view.programme.operator_id == setting["operator_org"].id
    assert view.partner_ids == {setting["lydec"].id} and view.programme.city_id == setting["city"].id
    assert [p.kind for p in view.phases] == [k.value for k in PHASE_ORDER]
    assert view.starts_on == date(2026, 11, 3)
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "programme.created")).all()[-1]
    assert event.target_id == str(view.programme.id)


def test_without_phases_the_default_calendar_starts_today(db, make, setting):
    view = _create(db, make, setting, phases=[])
    assert len(view.phases) == 9 and view.starts_on == utcnow().date()


def test_current_phase_follows_the_dates_in_the_programme_time_zone(db, make, setting):
    phases = [
        PhaseIn(kind=PhaseKind.definition, starts_on=date(2027, 1, 1), ends_on=date(2027, 1, 31)),
        PhaseIn(kind=PhaseKind.call, starts_on=date(2027, 2, 1), ends_on=date(2027, 3, 31)),
    ]
    view = _create(db, make, setting, phases=phases)
    late_evening = datetime(2027, 1, 31, 23, 30, tzinfo=CASABLANCA)
    after_midnight = datetime(2027, 2, 1, 0, 30, tzinfo=CASABLANCA)
    # the same instants in UTC are still 31 January: a UTC calendar would get the second one wrong
    assert after_midnight.astimezone(UTC).date() == date(2027, 1, 31)
    assert view.current_phase(late_evening).kind == "definition"
    assert view.current_phase(after_midnight.astimezone(UTC)).kind == "call"
    assert view.current_phase(datetime(2026, 12, 31, 12, tzinfo=UTC)) is None
    assert view.stage(datetime(2026, 12, 31, 12, tzinfo=UTC)) == "upcoming"
    assert view.stage(datetime(2027, 4, 1, 12, tzinfo=CASABLANCA)) == "over"
    assert view.stage(late_evening) == "running"


def test_a_phase_cannot_end_before_it_starts(db, make, setting):
    backwards = {"kind": "call", "starts_on": date(2027, 5, 1), "ends_on": date(2027, 4, 1)}
    with pytest.raises(ValidationError, match=r"A phase cannot end before it starts\."):
        PhaseIn(**backwards)
    phases = _calendar(date(2027, 1, 1))
    phases[1] = PhaseIn.model_construct(**{**backwards, "kind": PhaseKind.call})  # the service checks too
    with pytest.raises(Invalid) as refused:
        _create(db, make, setting, phases=phases)
    assert refused.value.errors == {"phases.call": "A phase cannot end before it starts."}


def test_phases_follow_the_order_of_the_calendar(db, make, setting):
    phases = _calendar(date(2027, 1, 1))
    phases[2] = PhaseIn(kind=PhaseKind.preselection, starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 2))
    with pytest.raises(Invalid) as refused:
        _create(db, make, setting, phases=phases)
    assert set(refused.value.errors) == {"phases.preselection"}


def test_a_phase_appears_once(db, make, setting):
    phases = _calendar(date(2027, 1, 1))
    with pytest.raises(Invalid) as refused:
        _create(db, make, setting, phases=[*phases, phases[0]])
    assert refused.value.errors == {"phases": "Each phase appears once."}


def test_every_problem_is_reported_at_once(db, make, setting):
    _create(db, make, setting)
    with pytest.raises(Invalid) as refused:
        _create(db, make, setting, timezone="Mars/Olympus", city=setting["lydec"].id, partners=[setting["city"].id])
    assert refused.value.errors == {
        "timezone": "Choose a time zone such as Africa/Casablanca.",
        "city": "Choose a city organisation.",
        "partners": "Choose partner organisations.",
        "slug": "This short name is already taken.",
    }


def test_the_slug_new_is_reserved_for_the_form(db, make, setting):
    with pytest.raises(Invalid) as refused:
        _create(db, make, setting, slug="new")
    assert set(refused.value.errors) == {"slug"}


def test_only_operator_staff_create_and_only_for_an_operator(db, make, setting):
    for who in ("sponsor", "startup"):
        with pytest.raises(Forbidden):
            service.create_programme(db, make.actor(setting[who]), ProgrammeCreate(name="Rabat 2028"))
    with pytest.raises(Forbidden):  # an operator names another operator
        service.create_programme(
            db,
            make.actor(setting["operator"]),
            ProgrammeCreate(name="Rabat 2028", operator=setting["other_operator"].id),
        )
    admin = make.actor(setting["admin"])
    with pytest.raises(Invalid) as refused:  # a platform admin names a partner as operator
        service.create_programme(db, admin, ProgrammeCreate(name="Rabat 2028", operator=setting["lydec"].id))
    assert refused.value.errors == {"operator": "Choose an operator organisation."}
    with pytest.raises(Invalid) as refused:  # and must name one
        service.create_programme(db, admin, ProgrammeCreate(name="Rabat 2028"))
    assert set(refused.value.errors) == {"operator"}
    view = service.create_programme(db, admin, ProgrammeCreate(name="Rabat 2028", operator=setting["operator_org"].id))
    assert view.programme.operator_id == setting["operator_org"].id


def test_update_replaces_fields_partners_and_calendar_with_an_audit_event(db, make, setting):
    view = _create(db, make, setting)
    actor = make.actor(setting["operator"])
    phases = _calendar(date(2027, 2, 1))
    view = service.update_programme(
        db,
        actor,
        view,
        ProgrammeUpdate(name="Casablanca 2027 edition", partners=[setting["inwi"].id], phases=phases, city=None),
    )
    assert view.programme.name == "Casablanca 2027 edition" and view.programme.slug == "casablanca-2027"
    assert view.partner_ids == {setting["inwi"].id} and view.programme.city_id is None
    assert view.starts_on == date(2027, 2, 1) and len(view.phases) == 9
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "programme.updated")).all()[-1]
    assert event.data["fields"] == ["name", "city", "partners", "phases"]
    again = service.get_programme(db, actor, view.programme.id)
    assert again.starts_on == date(2027, 2, 1) and again.partner_ids == {setting["inwi"].id}


def test_update_leaves_out_fields_not_given_and_checks_like_create(db, make, setting):
    view = _create(db, make, setting)
    actor = make.actor(setting["operator"])
    view = service.update_programme(db, actor, view, ProgrammeUpdate(description="New text"))
    assert view.programme.description == "New text" and view.programme.city_id == setting["city"].id
    assert view.partner_ids == {setting["lydec"].id} and len(view.phases) == 9
    phases = _calendar(date(2027, 1, 1))
    phases[0] = PhaseIn.model_construct(
        kind=PhaseKind.definition, starts_on=date(2027, 1, 10), ends_on=date(2027, 1, 1)
    )
    with pytest.raises(Invalid) as refused:
        change = ProgrammeUpdate(timezone="Nowhere/Here", phases=[])
        change.phases = phases
        service.update_programme(db, actor, view, change)
    assert set(refused.value.errors) == {"phases.definition", "timezone"}
    with pytest.raises(Invalid) as refused:
        service.update_programme(db, actor, view, ProgrammeUpdate(name=None))
    assert refused.value.errors == {"name": "This field is required."}


def test_only_the_operator_and_platform_admins_edit(db, make, setting):
    view = _create(db, make, setting)
    for who in ("other_operator", "sponsor", "startup"):
        with pytest.raises(Forbidden):
            service.update_programme(db, make.actor(setting[who]), view, ProgrammeUpdate(name="Taken over"))
    view = service.update_programme(db, make.actor(setting["admin"]), view, ProgrammeUpdate(name="Fixed by admin"))
    assert view.programme.name == "Fixed by admin"


def test_programmes_are_public_and_unknown_ones_are_not_found(db, make, setting):
    view = _create(db, make, setting)
    assert service.get_programme_by_slug(db, make.actor(None), "casablanca-2027").programme.id == view.programme.id
    with pytest.raises(NotFound):
        service.get_programme(db, make.actor(None), 2_000_000_000)


def test_timeline_bars_are_proportional_and_mirrored_right_to_left(db, make, setting):
    view = _create(db, make, setting, phases=_calendar(date(2027, 1, 1)))
    now = datetime(2027, 4, 15, 12, tzinfo=CASABLANCA)  # in the call for proposals
    ltr = build_timeline(view, now, rtl=False)
    rtl = build_timeline(view, now, rtl=True)
    total = (view.ends_on - view.starts_on).days + 1
    definition, call = ltr.rows[0], ltr.rows[1]
    assert definition.x == 0 and definition.width == pytest.approx(90 / total * 1000, abs=0.01)
    assert call.state == "current" and definition.state == "past" and ltr.rows[2].state == "future"
    assert ltr.rows[7].width == 6  # a one-day demo day stays visible
    for left, right in zip(ltr.rows, rtl.rows, strict=True):
        assert right.x == pytest.approx(1000 - left.x - left.width, abs=0.02)
    assert rtl.today_x == pytest.approx(1000 - ltr.today_x, abs=0.02)
    assert call.x <= ltr.today_x <= call.x + call.width
    assert build_timeline(view, datetime(2030, 1, 1, tzinfo=UTC), rtl=False).today_x is None


# ---- pages ------------------------------------------------------------------------------------------------


def _challenge(make, view, lead, **fields):
    values = {"slug": "water-leaks", "title": "Water-network leaks", "summary": "Find leaks before they surface."}
    return make.published_challenge(
        lead, programme=view.programme, deadline=utcnow() + timedelta(days=30), published_at=utcnow(),
        **{**values, **fields},
    )  # fmt: skip


def _running(db, make, setting, **overrides):
    """A programme whose call for proposals is open today (in Casablanca)."""
    today = utcnow().astimezone(CASABLANCA).date()
    return _create(db, make, setting, phases=_calendar(today - timedelta(days=100)), **overrides)


def test_list_page_shows_programmes_with_their_current_phase(client, db, make, setting):
    _running(db, make, setting)
    page = client.get("/programmes", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'href="/programmes/casablanca-2027"' in page.text and "DataCity operator" in page.text
    assert "Ville de Casablanca" in page.text and "Call for proposals" in page.text
    assert 'href="/programmes/new"' not in page.text


def test_programme_page_has_the_timeline_with_the_current_phase_and_today(client, db, make, setting):
    view = _running(db, make, setting, description="The **first** edition.<script>alert(1)</script>")
    _challenge(make, view, setting["lydec"])
    _challenge(make, view, setting["lydec"], slug="secret-draft", title="Secret draft", status="draft")
    page = client.get("/programmes/casablanca-2027", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.text
    assert "<strong>first</strong>" in html and "<script>alert" not in html
    assert '<link rel="stylesheet" href="/static/css/timeline.css">' in html
    assert "Ville de Casablanca" in html and "Lydec" in html and "DataCity operator" in html
    rows = re.findall(r'<tr class="timeline__row timeline__row--(\w+)"', html)
    assert rows == ["past", "current", *["future"] * 7]
    current = html[html.index('aria-current="step"') :]
    assert current.index("Call for proposals") < current.index("</tr>")
    assert html.count('class="timeline__today"') == 9 and "Today," in html
    assert html.count('class="timeline__bar ') == 9
    assert 'href="/programmes/casablanca-2027/challenges/water-leaks"' in html and "Lydec" in html
    assert "Secret draft" not in html


def test_arabic_page_is_right_to_left_and_the_timeline_still_renders(client, db, make, setting):
    _running(db, make, setting)
    ltr = client.get("/programmes/casablanca-2027", headers={"Accept-Language": "fr"}).text
    page = client.get("/programmes/casablanca-2027", headers={"Accept-Language": "ar"})
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text
    assert page.text.count('class="timeline__bar ') == 9 and 'aria-current="step"' in page.text
    first_bar = re.compile(r'timeline__bar--past" x="([\d.]+)" y="9" width="([\d.]+)"')
    x_ltr, w = map(float, first_bar.search(ltr).groups())
    x_rtl, _ = map(float, first_bar.search(page.text).groups())
    assert x_ltr == 0 and x_rtl == pytest.approx(1000 - w, abs=0.02)


def test_unknown_programme_is_404(client):
    assert client.get("/programmes/nowhere").status_code == 404


# ---- the operator's form ----------------------------------------------------------------------------------


def _form(setting, **overrides) -> dict:
    data = {
        "name": "Rabat 2028",
        "slug": "",
        "description": "A *new* edition.",
        "operator": str(setting["operator_org"].id),
        "city": str(setting["city"].id),
        "partners": [str(setting["lydec"].id), str(setting["inwi"].id)],
        "timezone": "Africa/Casablanca",
    }
    for phase in _calendar(date(2028, 1, 3)):
        data[f"starts_on-{phase.kind.value}"] = phase.starts_on.isoformat()
        data[f"ends_on-{phase.kind.value}"] = phase.ends_on.isoformat()
    data.update(overrides)
    return data


def test_new_form_is_prefilled_with_the_default_calendar(client, db, make, setting):
    sign_in(client, "op@example.org")
    page = client.get("/programmes/new", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    today = utcnow().astimezone(CASABLANCA).date()
    assert f'name="starts_on-definition" value="{today.isoformat()}"' in page.text
    assert 'value="Africa/Casablanca" selected' in page.text and "Lydec" in page.text
    assert "Ville de Casablanca" in page.text


def test_operator_creates_a_programme_through_the_form(client, db, make, setting):
    sign_in(client, "op@example.org")
    response = post_form(client, "/programmes/new", _form(setting), page="/programmes/new")
    assert response.status_code == 303 and response.headers["location"] == "/programmes/rabat-2028"
    view = service.get_programme_by_slug(db, make.actor(None), "rabat-2028")
    assert view.partner_ids == {setting["lydec"].id, setting["inwi"].id} and view.starts_on == date(2028, 1, 3)
    page = client.get("/programmes/rabat-2028", headers={"Accept-Language": "en"})
    assert "The programme Rabat 2028 is created." in page.text and 'href="/programmes/rabat-2028/edit"' in page.text


def test_form_errors_keep_the_input(client, db, make, setting):
    sign_in(client, "op@example.org")
    data = _form(
        setting,
        name="Rabat 2028 with a typo",
        slug="Not A Slug",
        **{"ends_on-call": "2027-01-01", "starts_on-demo_day": "", "ends_on-auditions": "not-a-date"},
    )
    response = post_form(client, "/programmes/new", data, page="/programmes/new", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    html = response.text
    assert 'value="Rabat 2028 with a typo"' in html and 'value="Not A Slug"' in html
    assert "Use only lowercase letters, digits and hyphens." in html
    assert "Enter both dates, or leave both empty to leave this phase out." in html
    assert "Enter valid dates, such as 2027-01-31." in html
    assert 'name="ends_on-call" value="2027-01-01"' in html
    assert f'value="{setting["inwi"].id}" checked' in html
    response = post_form(
        client,
        "/programmes/new",
        _form(setting, **{"ends_on-call": "2027-01-01"}),
        page="/programmes/new",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422 and "A phase cannot end before it starts." in response.text
    response = post_form(
        client,
        "/programmes/new",
        _form(setting, partners=["99999999999"], city="99999999999"),
        page="/programmes/new",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422 and 'id="e-city"' in response.text
    assert "Enter a number of at most 2147483647." in response.text.split('id="f-partners"')[1].split("</fieldset>")[0]
    assert service.list_programmes(db, make.actor(None)) == []


def test_a_phase_left_empty_is_left_out(client, db, make, setting):
    sign_in(client, "op@example.org")
    data = _form(setting, **{"starts_on-follow_up": "", "ends_on-follow_up": ""})
    assert post_form(client, "/programmes/new", data, page="/programmes/new").status_code == 303
    view = service.get_programme_by_slug(db, make.actor(None), "rabat-2028")
    assert [p.kind for p in view.phases][-1] == "demo_day"


def test_operator_edits_the_programme_and_its_calendar(client, db, make, setting):
    view = _create(db, make, setting)
    sign_in(client, "op@example.org")
    page = client.get("/programmes/casablanca-2027/edit", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and 'value="Casablanca 2027"' in page.text
    assert 'name="starts_on-definition" value="2026-11-03"' in page.text
    data = _form(setting, name="Casablanca 2027 (revised)", slug="casablanca-2027", city="")
    data.pop("operator")
    response = post_form(client, "/programmes/casablanca-2027/edit", data, page="/programmes/casablanca-2027/edit")
    assert response.status_code == 303 and response.headers["location"] == "/programmes/casablanca-2027"
    view = service.get_programme(db, make.actor(None), view.programme.id)
    assert view.programme.name == "Casablanca 2027 (revised)" and view.programme.city_id is None
    assert view.starts_on == date(2028, 1, 3) and view.partner_ids == {setting["lydec"].id, setting["inwi"].id}
    bad = post_form(
        client,
        "/programmes/casablanca-2027/edit",
        {**data, "timezone": "Atlantis/Capital", "name": "Kept"},
        page="/programmes/casablanca-2027/edit",
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 422 and "Choose a time zone such as Africa/Casablanca." in bad.text
    assert 'value="Kept"' in bad.text and 'value="Atlantis/Capital" selected' in bad.text


def test_others_cannot_open_the_forms(client, db, make, setting):
    _create(db, make, setting)
    sign_in(client, setting["sponsor"].email)
    assert client.get("/programmes/new").status_code == 404
    assert client.get("/programmes/casablanca-2027/edit").status_code == 404
    page = client.get("/programmes/casablanca-2027").text
    assert "/edit" not in page


# ---- API --------------------------------------------------------------------------------------------------


def _bearer(make, user, scope="read") -> dict:
    return {"Authorization": f"Bearer {make.token(user, scope)[1]}", "Accept-Language": "en"}


def test_api_lists_programmes_with_their_calendar_and_cursor(client, db, make, setting):
    first = _running(db, make, setting)
    second = _create(db, make, setting, name="Rabat 2028", phases=_calendar(date(2028, 1, 3)))
    headers = _bearer(make, setting["startup"])
    page = client.get("/api/v1/programmes?limit=1", headers=headers).json()
    assert [p["slug"] for p in page["items"]] == ["rabat-2028"] and page["next"]
    rest = client.get(page["next"], headers=headers).json()
    assert [p["slug"] for p in rest["items"]] == ["casablanca-2027"] and rest["next"] is None
    item = rest["items"][0]
    assert item["id"] == first.programme.id and item["url"].endswith(f"/api/v1/programmes/{first.programme.id}")
    assert item["current_phase"] == "call" and item["partners"] == [setting["lydec"].id]
    assert [p["kind"] for p in item["phases"]][:2] == ["definition", "call"]
    assert [p["current"] for p in item["phases"]].count(True) == 1
    one = client.get(f"/api/v1/programmes/{second.programme.id}", headers=headers).json()
    assert one["current_phase"] is None and one["phases"][0]["starts_on"] == "2028-01-03"
    assert client.get("/api/v1/programmes").status_code == 401
    assert client.get("/api/v1/programmes/2000000000", headers=headers).status_code == 404


def test_api_create_and_patch(client, db, make, setting):
    headers = _bearer(make, setting["operator"], "write")
    body = {
        "name": "Tanger 2029",
        "city": setting["city"].id,
        "partners": [setting["inwi"].id],
        "timezone": "Africa/Casablanca",
        "phases": [{"kind": "definition", "starts_on": "2029-01-01", "ends_on": "2029-03-31"}],
    }
    created = client.post("/api/v1/programmes", json=body, headers=headers)
    assert created.status_code == 201, created.text
    programme = created.json()
    assert created.headers["location"] == programme["url"] and programme["slug"] == "tanger-2029"
    patched = client.patch(
        f"/api/v1/programmes/{programme['id']}",
        json={
            "description": "Edited",
            "phases": [{"kind": "call", "starts_on": "2029-04-01", "ends_on": "2029-05-31"}],
        },
        headers=headers,
    )
    assert patched.status_code == 200 and patched.json()["description"] == "Edited"
    assert [p["kind"] for p in patched.json()["phases"]] == ["call"] and patched.json()["city"] == setting["city"].id
    refused = client.patch(
        f"/api/v1/programmes/{programme['id']}",
        json={"phases": [{"kind": "call", "starts_on": "2029-05-01", "ends_on": "2029-04-01"}]},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "phases.0", "message": "A phase cannot end before it starts."}]
    sponsor = _bearer(make, setting["sponsor"], "write")
    assert (
        client.patch(f"/api/v1/programmes/{programme['id']}", json={"name": "Mine"}, headers=sponsor).status_code == 403
    )
    assert client.post("/api/v1/programmes", json=body, headers=sponsor).status_code == 403
    read_only = _bearer(make, setting["operator"])
    assert client.post("/api/v1/programmes", json={"name": "Fès 2030"}, headers=read_only).status_code == 403
    unknown = client.post("/api/v1/programmes", json={"name": "Fès 2030", "colour": "red"}, headers=headers)
    assert unknown.status_code == 422
    huge = client.post("/api/v1/programmes", json={"name": "Fès 2030", "partners": [2**31]}, headers=headers)
    assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "partners.0"
