from tests.conftest import sign_in


def test_home_and_health(client):
    assert client.get("/").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}


def test_sign_in(client, make):
    user = make.user()
    sign_in(client, user.email)
    page = client.get("/")
    assert user.name in page.text
