"""HTTP routes of the widget and the agent console: CORS, texts and locales."""

import pytest


HOST_ORIGIN = "http://127.0.0.1:8123"


@pytest.fixture
def client(make_app):
    """A test client of an app that lists one host origin in IMFLASK_CORS_ORIGINS."""
    app = make_app(CORS_ORIGINS=f"{HOST_ORIGIN}, http://shop.example", MAX_MESSAGE_BYTES=2048)
    return app.test_client()


def get(client, url, **kwargs):
    """Fetch ``url`` and close the response, so no file handle stays open."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize("name", ["widget.js", "session.js", "widget.css", "config.json"])
def test_widget_file_allows_listed_origin(client, name):
    response = get(client, f"/widget/{name}", headers={"Origin": HOST_ORIGIN})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("name", ["widget.js", "config.json"])
def test_widget_file_no_cors_for_unlisted_origin(client, name):
    response = get(client, f"/widget/{name}", headers={"Origin": "http://127.0.0.1:9999"})

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_widget_file_types(client):
    assert get(client, "/widget/widget.js").mimetype == "text/javascript"
    assert get(client, "/widget/widget.css").mimetype == "text/css"


@pytest.mark.parametrize("name", ["nope.js", "..%2Fwidget.py", "demo.css"])
def test_widget_unknown_file_not_found(client, name):
    assert get(client, f"/widget/{name}").status_code == 404


@pytest.mark.parametrize(
    ("query", "accept_language", "locale", "consult"),
    [
        ("?locale=en", "zh-CN", "en", "Start a conversation"),
        ("?locale=zh_CN", "en", "zh_CN", "开始咨询"),
        ("", "en-US,en;q=0.9", "en", "Start a conversation"),
        ("", "zh-CN,zh;q=0.9", "zh_CN", "开始咨询"),
        ("", "fr-FR", "zh_CN", "开始咨询"),
    ],
)
def test_widget_config_picks_locale(client, query, accept_language, locale, consult):
    response = get(client, f"/widget/config.json{query}", headers={"Accept-Language": accept_language})
    body = response.get_json()

    assert body["locale"] == locale
    assert body["strings"]["consult"] == consult
    assert body["max_message_bytes"] == 2048


def test_widget_config_strings_keep_placeholders(client):
    strings = get(client, "/widget/config.json?locale=zh_CN").get_json()["strings"]

    assert "%(position)s" in strings["queued"]
    assert "%(agent)s" in strings["chatting_with"]
    assert "%(score)s" in strings["score_label"]


def test_console_page_in_requested_locale(client):
    english = get(client, "/console?locale=en")
    chinese = get(client, "/console?locale=zh_CN")

    assert english.status_code == 200
    assert b"Agent console" in english.data
    assert b'<html lang="en">' in english.data
    assert "客服工作台" in chinese.get_data(as_text=True)
    assert b'<html lang="zh-CN">' in chinese.data
    assert b'"locale": "zh_CN"' in chinese.data


def test_page_locale_choice_kept_in_cookie(client):
    chosen = get(client, "/console?locale=en", headers={"Accept-Language": "zh-CN"})
    following = get(client, "/console", headers={"Accept-Language": "zh-CN"})

    assert "locale=en" in chosen.headers["Set-Cookie"]
    assert b'<html lang="en">' in following.data
    assert "Set-Cookie" not in following.headers


def test_widget_config_locale_sets_no_cookie(client):
    response = get(client, "/widget/config.json?locale=en", headers={"Origin": HOST_ORIGIN})
    page = get(client, "/console", headers={"Accept-Language": "zh-CN"})

    assert "Set-Cookie" not in response.headers
    assert b'<html lang="zh-CN">' in page.data


def test_console_page_carries_no_token_outside_demo(client):
    page = get(client, "/console?locale=en").get_data(as_text=True)

    assert '"token": null' in page
    assert '"demo": false' in page


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("http://localhost", 200),
        (HOST_ORIGIN, 200),
        ("http://shop.example", 200),
        ("http://127.0.0.1:9999", 400),
    ],
)
def test_socketio_handshake_allows_own_and_listed_origins(client, origin, status):
    response = get(client, "/socket.io/?EIO=4&transport=polling", headers={"Origin": origin})

    assert response.status_code == status
