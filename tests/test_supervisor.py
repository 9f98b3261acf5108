"""The supervisors' statistics page: who may see it and what it shows."""

import json

import pytest
import requests

from imflask import create_app
from imflask.export.window import format_time
from imflask.tokens import mint_token
from tests.test_stats import EXPECTED, T0, seed_known_history

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"
WINDOW_QUERY = f"since={format_time(T0)}&until={format_time(T0 + 3600)}"


@pytest.fixture
def app(redis_url, key_prefix, tmp_path, monkeypatch):
    """An app on the test Redis and key prefix."""
    monkeypatch.setenv("IMFLASK_INSTANCE_PATH", str(tmp_path / "instance"))
    return create_app({"SECRET_KEY": SECRET, "REDIS_URL": redis_url, "REDIS_PREFIX": key_prefix, "ASYNC_MODE": "threading"})


@pytest.fixture
def client(app):
    """A test client of the app with a cookie jar."""
    return app.test_client()


@pytest.fixture
def history(app):
    """The history of tests.test_stats, whose figures are EXPECTED."""
    return seed_known_history(app.extensions["imflask"].history)


def bearer(role, uid="boss"):
    return {"Authorization": f"Bearer {mint_token(SECRET, uid, role)}"}


def test_page_without_token_is_401(client, history):
    response = client.get(f"/supervisor/?{WINDOW_QUERY}&locale=en")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"Sign-in required" in response.data
    assert b"a-1" not in response.data


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_page_other_role_is_403(client, history, role):
    response = client.get(f"/supervisor/?{WINDOW_QUERY}", headers=bearer(role))

    assert response.status_code == 403
    assert b"a-1" not in response.data


def test_page_bad_token_is_401(client):
    response = client.get("/supervisor/", headers={"Authorization": "Bearer not-a-jwt"})

    assert response.status_code == 401


def test_page_bearer_shows_figures_and_charts(client, history):
    response = client.get(f"/supervisor/?{WINDOW_QUERY}&locale=en", headers=bearer("supervisor"))
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert page.count("<svg ") == 9
    assert "Peak concurrent conversations" in page
    assert "<th scope=\"row\">a-1</th>" in page
    assert "22.5s" in page
    assert "4.00" in page


def test_page_in_chinese(client, history):
    response = client.get(f"/supervisor/?{WINDOW_QUERY}&locale=zh_CN", headers=bearer("supervisor"))

    assert "客服绩效" in response.get_data(as_text=True)


def test_page_query_token_becomes_session(client, history):
    token = mint_token(SECRET, "boss", "supervisor")

    first = client.get(f"/supervisor/?token={token}&{WINDOW_QUERY}")
    second = client.get(first.headers["Location"])

    assert first.status_code == 303
    assert "token=" not in first.headers["Location"]
    assert "since=" in first.headers["Location"]
    assert second.status_code == 200
    assert b"a-2" in second.data


def test_page_logout_ends_session(client, history):
    client.get(f"/supervisor/?token={mint_token(SECRET, 'boss', 'supervisor')}")

    client.post("/supervisor/logout")

    assert client.get("/supervisor/").status_code == 401


def test_page_session_expires(app, client, history):
    app.config["SUPERVISOR_SESSION_TTL"] = 0
    client.get(f"/supervisor/?token={mint_token(SECRET, 'boss', 'supervisor')}")

    assert client.get("/supervisor/").status_code == 401


def test_page_query_token_of_customer_is_403(client):
    response = client.get(f"/supervisor/?token={mint_token(SECRET, 'c', 'customer')}")

    assert response.status_code == 403


def test_page_bad_window_is_400(client):
    response = client.get("/supervisor/?since=yesterday&locale=en", headers=bearer("supervisor"))

    assert response.status_code == 400
    assert b"Enter times as" in response.data


def test_page_empty_window_says_so(client):
    response = client.get("/supervisor/?since=2020-01-01&until=2020-01-02&locale=en", headers=bearer("supervisor"))

    assert response.status_code == 200
    assert b"No conversations in this window." in response.data


def test_stats_json_matches_cli(client, history):
    response = client.get(f"/supervisor/stats.json?{WINDOW_QUERY}", headers=bearer("supervisor"))

    assert response.status_code == 200
    assert json.loads(response.data)["agents"] == EXPECTED


def test_stats_json_requires_supervisor(client, history):
    assert client.get(f"/supervisor/stats.json?{WINDOW_QUERY}").status_code == 401


@pytest.mark.timeout(60)
def test_page_served_by_real_server(server):
    headers = {"Authorization": f"Bearer {server.token('boss', 'supervisor')}", "Connection": "close"}

    response = requests.get(f"{server.url}/supervisor/?locale=en", headers=headers, timeout=5)
    anonymous = requests.get(f"{server.url}/supervisor/", headers={"Connection": "close"}, timeout=5)

    assert response.status_code == 200
    assert "Agent performance" in response.text
    assert anonymous.status_code == 401
