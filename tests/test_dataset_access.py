"""What each role learns of a challenge's datasets: a visitor sees the datasets for registered users by title
and licence with a way to sign in, and their pages send them to sign in; datasets for applicants or selected
startups stay unknown (404) to those who may not see them."""

from urllib.parse import quote

import pytest

from app.challenges import service as challenges
from app.challenges.web import challenge_path
from app.datasets import service as datasets
from app.datasets.schemas import DatasetCreate
from tests.conftest import sign_in

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(db, make):
    sponsor, lydec = make.member("partner")
    challenge = make.published_challenge(lydec, title="Water leaks")
    actor = make.actor(sponsor)
    view = challenges.get_challenge(db, actor, challenge.id)
    made = {
        access: datasets.create_dataset(
            db, actor, view, DatasetCreate(title=f"Pressure ({access})", licence="ODbL-1.0", access=access)
        ).dataset
        for access in ("public", "registered", "applicants", "selected")
    }
    return {"path": challenge_path(view), "datasets": made, "sponsor": sponsor, "startup": make.member("startup")[0]}


def test_a_visitor_sees_registered_datasets_by_title_and_licence_and_is_asked_to_sign_in(client, world):
    page = client.get(world["path"], headers=EN).text
    section = page[page.index('id="datasets"') :]
    assert "Pressure (public)" in section and "Pressure (registered)" in section
    assert "Open Database License" in section or "ODbL-1.0" in section
    assert f'href="/login?next={quote(world["path"])}"' in section and "Sign in to access" in section
    assert f'href="/datasets/{world["datasets"]["registered"].id}"' not in section  # no link to a page they lack
    assert "Pressure (applicants)" not in page and "Pressure (selected)" not in page


def test_a_registered_datasets_page_sends_a_visitor_to_sign_in_and_back(client, world):
    path = f"/datasets/{world['datasets']['registered'].id}"
    asked = client.get(path, headers=EN)
    assert asked.status_code == 303 and asked.headers["location"] == f"/login?next={quote(path)}"
    login = client.get(asked.headers["location"], headers=EN)
    assert "Sign in to access this dataset." in login.text
    for access in ("applicants", "selected"):
        assert client.get(f"/datasets/{world['datasets'][access].id}").status_code == 404


def test_signed_in_a_startup_sees_registered_datasets_in_full_and_not_the_applicants_ones(client, world):
    sign_in(client, world["startup"].email)
    page = client.get(world["path"], headers=EN).text
    assert f'href="/datasets/{world["datasets"]["registered"].id}"' in page and "Sign in to access" not in page
    assert "Pressure (applicants)" not in page and "Pressure (selected)" not in page
    assert client.get(f"/datasets/{world['datasets']['registered'].id}").status_code == 200
    assert client.get(f"/datasets/{world['datasets']['applicants'].id}").status_code == 404


def test_the_sponsor_sees_every_dataset_of_its_challenge(client, world):
    sign_in(client, world["sponsor"].email)
    page = client.get(world["path"], headers=EN).text
    for access, dataset in world["datasets"].items():
        assert f'href="/datasets/{dataset.id}"' in page, access
