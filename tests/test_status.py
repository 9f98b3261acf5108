"""``flask im status`` and ``flask im plugins`` against the live tier state in Redis."""

import json

import pytest

from imflask.tokens import decode_token


@pytest.fixture
def app(make_app):
    """An app on the test Redis and key prefix."""
    return make_app()


@pytest.fixture
def cli(app):
    """Run ``flask im`` with the given arguments and return the Click result."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["im", *args])


def test_status_nobody_online(cli):
    result = cli("status")

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "pointer: full (no available agent has free capacity)",
        "No agent is online.",
        "unavailable: (none)",
        "queue: empty",
    ]


def test_status_tiers_unavailable_and_queue(app, cli):
    strategy = app.extensions["imflask"].strategy
    strategy.agent_online("a-1", capacity=1, now=1.0)
    strategy.agent_online("a-2", capacity=2, now=1.0)
    strategy.agent_online("a-3", capacity=2, now=1.0)
    strategy.set_available("a-3", False, now=2.0)
    for index in range(5):
        strategy.consult(f"c-{index}", now=3.0 + index)

    lines = cli("status", "--head", "1").stdout.splitlines()

    assert lines == [
        "pointer: full (no available agent has free capacity)",
        "tier 0: a-3 (0/2, unavailable)",
        "tier 1: a-1 (1/1)",
        "tier 2: a-2 (2/2)",
        "unavailable: a-3",
        "queue: 2 waiting; next: c-3, ...",
    ]


def test_status_json(app, cli):
    strategy = app.extensions["imflask"].strategy
    strategy.agent_online("a-1", capacity=2, now=1.0)
    strategy.consult("c-1", now=2.0)

    state = json.loads(cli("status", "--json").stdout)

    assert state == {
        "pointer": 1,
        "tiers": {"1": [{"agent": "a-1", "load": 1, "capacity": 2, "available": True}]},
        "unavailable": [],
        "queue_length": 0,
        "queue_head": [],
    }


def test_status_bad_head(cli):
    result = cli("status", "--head", "-1")

    assert result.exit_code == 2
    assert "'--head'" in result.stderr


def test_plugins_lists_export_formats_and_redaction(cli):
    output = cli("plugins").stdout

    assert "plugins.export_formats: imflask_export_formats" in output
    assert "plugins.redaction: imflask_transform_transcript" in output
    assert "export formats: csv, jsonl, txt" in output
    assert "  jsonl: plugins.export_formats.jsonl: " in output


def test_token_supervisor_role(app, cli):
    result = cli("token", "--uid", "boss", "--role", "supervisor")

    assert decode_token(app.config["JWT_SECRET"], result.stdout.strip()).role == "supervisor"
