"""The application factory: configuration rules, plugin loading and the CLI."""

import pytest

from imflask import create_app
from imflask.errors import ConfigError, UnknownNameError
from imflask.pluginmanager import DEFAULT_PLUGINS, plugin_names
from imflask.tokens import decode_token


def test_create_app_without_secret_key_fails(app_config, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app_config.pop("SECRET_KEY")

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(app_config)


def test_create_app_demo_generates_key_once(app_config, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app_config.pop("SECRET_KEY")
    app_config["DEMO"] = True

    first = create_app(app_config).config["SECRET_KEY"]
    second = create_app(app_config).config["SECRET_KEY"]

    assert len(first) == 64
    assert first == second


def test_create_app_reads_prefixed_environment(app_config, monkeypatch):
    monkeypatch.setenv("IMFLASK_AGENT_CAPACITY", "7")
    monkeypatch.setenv("IMFLASK_QUEUE_WHEN_NO_AGENTS", "false")

    app = create_app(app_config)

    assert app.config["AGENT_CAPACITY"] == 7
    assert app.config["QUEUE_WHEN_NO_AGENTS"] is False


def test_create_app_unknown_strategy_lists_known(app_config):
    app_config["ALLOCATION"] = "round-robin"

    with pytest.raises(UnknownNameError) as caught:
        create_app(app_config)

    assert "round-robin" in str(caught.value)
    assert "tier" in str(caught.value)


def test_create_app_unknown_history_store_lists_known(app_config):
    app_config["HISTORY"] = "postgres"

    with pytest.raises(UnknownNameError, match="known names: redis"):
        create_app(app_config)


def test_plugins_load_defaults_then_configured(app_config):
    app_config["PLUGINS"] = "tests.sample_plugin"

    app = create_app(app_config)
    names = plugin_names(app.extensions["imflask"].plugin_manager)

    assert names[: len(DEFAULT_PLUGINS)] == list(DEFAULT_PLUGINS)
    assert names[-1] == "tests.sample_plugin"
    assert "sample" in app.extensions["imflask"].strategies


def test_plugins_disabled_by_name(app_config):
    app_config["PLUGINS"] = "tests.sample_plugin"
    app_config["DISABLE_PLUGINS"] = "tests.sample_plugin"

    app = create_app(app_config)

    assert "tests.sample_plugin" not in plugin_names(app.extensions["imflask"].plugin_manager)


def test_plugins_missing_module_fails(app_config):
    app_config["PLUGINS"] = "tests.no_such_plugin"

    with pytest.raises(ConfigError, match="tests.no_such_plugin"):
        create_app(app_config)


def test_cli_token_prints_valid_token(app_config):
    app = create_app(app_config)

    result = app.test_cli_runner().invoke(args=["im", "token", "--uid", "a:1", "--role", "agent", "--capacity", "4"])

    assert result.exit_code == 0
    identity = decode_token("unit-test-secret-that-is-long-enough-for-hs256", result.output.strip())
    assert identity.uid == "a:1"
    assert identity.role == "agent"
    assert identity.capacity == 4


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--uid", "", "--role", "agent"], "--uid"),
        (["--uid", "u", "--role", "admin"], "--role"),
        (["--uid", "u", "--role", "agent", "--capacity", "0"], "--capacity"),
    ],
)
def test_cli_token_bad_option(app_config, args, fragment):
    app = create_app(app_config)

    result = app.test_cli_runner().invoke(args=["im", "token", *args])

    assert result.exit_code == 2
    assert fragment in result.output


def test_cli_plugins_lists_hooks_and_active_names(app_config):
    app_config["PLUGINS"] = "tests.sample_plugin"
    app = create_app(app_config)

    result = app.test_cli_runner().invoke(args=["im", "plugins"])

    assert result.exit_code == 0
    assert "plugins.jwt_auth: imflask_authenticate" in result.output
    assert "allocation strategy: tier (known: sample, tier)" in result.output
    assert "history store: redis" in result.output


def test_cli_plugin_command_registered(app_config):
    app_config["PLUGINS"] = "tests.sample_plugin"
    app = create_app(app_config)

    result = app.test_cli_runner().invoke(args=["im", "hello"])

    assert result.output.strip() == "hello from sample_plugin"


def test_healthz_reports_redis(app_config):
    app = create_app(app_config)

    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "redis": "ok"}


def test_demo_pages_absent_outside_demo(app_config):
    app = create_app(app_config)

    assert app.test_client().get("/demo/").status_code == 404


def test_demo_login_customer_gets_widget_page(app_config):
    app_config["DEMO"] = True
    client = create_app(app_config).test_client()

    response = client.post("/demo/", data={"uid": "alice", "role": "customer", "name": "Alice"})
    page = client.get("/demo/chat?locale=en")

    assert response.status_code == 302
    assert response.headers["Location"] == "/demo/chat#signed-in"
    assert page.status_code == 200
    assert b"/widget/widget.js" in page.data
    assert b'"token": "ey' in page.data
    assert b'"uid": "alice"' in page.data


def test_demo_login_agent_goes_to_console(app_config):
    app_config["DEMO"] = True
    client = create_app(app_config).test_client()

    client.post("/demo/", data={"uid": "bob", "role": "agent", "name": "Bob"})
    redirect = client.get("/demo/chat?locale=en")
    location, _, fragment = redirect.headers["Location"].partition("#")
    console = client.get(location)

    assert redirect.status_code == 302
    assert location == "/console?locale=en"
    assert decode_token(app_config["SECRET_KEY"], fragment.removeprefix("token=")).uid == "bob"
    assert console.status_code == 200
    assert b"Agent console" in console.data
    assert b'"token": "ey' in console.data


def test_demo_login_rejects_bad_uid(app_config):
    app_config["DEMO"] = True
    client = create_app(app_config).test_client()

    response = client.post("/demo/?locale=en", data={"uid": "", "role": "agent"})

    assert response.status_code == 400
    assert b"user id must be 1 to 128 characters" in response.data
