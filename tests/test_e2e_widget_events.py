"""End to end: the protocol extensions the widget and the console use (names, receipts, queue length)."""

import pytest

from tests.harness import settle

pytestmark = pytest.mark.timeout(60)


def test_names_in_consult_assigned_and_state(server, connect_client):
    agent = connect_client(server, "agent-n", "agent", name="Nora")
    customer = connect_client(server, "cust-n", "customer", name="小明")
    anonymous = connect_client(server, "cust-anon", "customer")

    ack = customer.call("consult")
    anonymous_ack = anonymous.call("consult")

    assert ack["names"] == {"agent-n": "Nora", "cust-n": "小明"}
    assert customer.wait_for("assigned")["names"] == {"agent-n": "Nora", "cust-n": "小明"}
    assert anonymous_ack["names"] == {"agent-n": "Nora"}
    assert customer.call("state")["names"] == {"agent-n": "Nora"}
    assert agent.call("state")["names"] == {"cust-n": "小明"}


def test_names_forgotten_when_token_has_none(server, connect_client):
    first = connect_client(server, "agent-f", "agent", name="Old Name")
    first.disconnect()
    connect_client(server, "agent-f", "agent")
    customer = connect_client(server, "cust-f", "customer")

    assert customer.call("consult")["names"] == {}


def test_delivered_relayed_to_peer_only(server, connect_client):
    agent = connect_client(server, "agent-d", "agent")
    customer = connect_client(server, "cust-d", "customer")
    outsider = connect_client(server, "cust-o", "customer")
    customer.call("consult")
    message = customer.call("message", {"to": "agent-d", "body": "hi"})["message"]

    ack = agent.call("delivered", {"peer": "cust-d", "seq": message["seq"]})
    receipt = customer.wait_for("delivered")
    settle()

    assert ack == {"ok": True}
    assert receipt == {"from": "agent-d", "seq": message["seq"]}
    assert customer.received("delivered") == [receipt]
    assert agent.received("delivered") == []
    assert outsider.received("delivered") == []


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"peer": "cust-d"}, "invalid_payload"),
        ({"peer": "cust-d", "seq": 0}, "invalid_payload"),
        ({"peer": "cust-d", "seq": "3"}, "invalid_payload"),
        ({"seq": 3}, "invalid_payload"),
        ({"peer": "someone-else", "seq": 3}, "not_in_conversation"),
    ],
)
def test_delivered_rejects_bad_payload(server, connect_client, payload, code):
    agent = connect_client(server, "agent-d", "agent")
    customer = connect_client(server, "cust-d", "customer")
    customer.call("consult")

    ack = agent.call("delivered", payload)

    assert ack["ok"] is False
    assert ack["error"]["code"] == code


def test_queue_length_pushed_to_every_agent(server, connect_client):
    busy = connect_client(server, "agent-busy", "agent", capacity=1)
    watcher = connect_client(server, "agent-watch", "agent", capacity=1)
    watcher.call("status", {"available": False})
    first = connect_client(server, "cust-1", "customer")
    waiting = connect_client(server, "cust-2", "customer")
    first.call("consult")

    assert waiting.call("consult")["status"] == "queued"
    for agent in (busy, watcher):
        assert agent.wait_for("queue_length", lambda data: data["queue_length"] == 1)

    first.call("close")
    for agent in (busy, watcher):
        assert agent.wait_for("queue_length", lambda data: data["queue_length"] == 0)
    settle()
    assert first.received("queue_length") == []
    assert waiting.received("queue_length") == []
