"""The example distribution in examples/imflask-wordfilter: found through its entry point, and working end to end.

``make install`` installs it into the virtualenv; these tests fail without it.
"""

import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from tests.harness import PROJECT_ROOT, settle

pytestmark = pytest.mark.timeout(60)


def test_example_entry_point_installed():
    names = {entry_point.name: entry_point.value for entry_point in entry_points(group="imflask")}

    assert names.get("wordfilter") == "imflask_wordfilter", "run `make install` to install examples/imflask-wordfilter"


def test_example_listed_by_flask_im_plugins(redis_url, key_prefix, tmp_path):
    env = dict(os.environ)
    env.update(
        SECRET_KEY="example-plugin-test-secret-long-enough",
        IMFLASK_REDIS_URL=redis_url,
        IMFLASK_REDIS_PREFIX=key_prefix,
        IMFLASK_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    flask = os.path.join(os.path.dirname(sys.executable), "flask")

    result = subprocess.run(
        [flask, "--app", "wsgi", "im", "plugins"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 0, result.stderr
    assert "wordfilter: imflask_message_received" in result.stdout.splitlines()


def test_example_rejects_blocked_word_end_to_end(server, connect_client):
    agent = connect_client(server, "agent-1", "agent")
    customer = connect_client(server, "cust-1", "customer")
    customer.call("consult")

    blocked = customer.call("message", {"to": "agent-1", "body": "可以代开发票吗？"})
    folded = customer.call("message", {"to": "agent-1", "body": "ＦＲＥＥ ＭＯＮＥＹ here"})
    clean = customer.call("message", {"to": "agent-1", "body": "我的订单什么时候发货？"})
    settle()

    assert blocked["ok"] is False
    assert blocked["error"]["code"] == "message_rejected"
    assert folded["error"]["code"] == "message_rejected"
    assert clean["ok"] is True
    bodies = [message["body"] for message in agent.received("message") if message["type"] == "text"]
    assert bodies == ["我的订单什么时候发货？"]


def test_example_disabled_by_name(start_server, connect_client):
    server = start_server({"DISABLE_PLUGINS": "wordfilter"})
    connect_client(server, "agent-1", "agent")
    customer = connect_client(server, "cust-1", "customer")
    customer.call("consult")

    ack = customer.call("message", {"to": "agent-1", "body": "可以代开发票吗？"})

    assert ack["ok"] is True
