"""End to end: ``python wsgi.py`` on a loopback port, real Redis, websocket clients."""

import threading
import time

import jwt
import pytest
import socketio

from plugins.redis_history import stored_form
from tests.harness import TEST_SECRET, ChatClient, settle

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["eventlet", "gevent"])
def async_mode(request):
    """Run every test here on both cooperative servers."""
    return request.param


def stored_messages(redis_client, prefix, a, b):
    """Return the messages of a pair's history hash, read straight from Redis."""
    lo, hi = sorted([a, b])
    key = f"{prefix}:h:{len(lo)}:{lo}:{hi}"
    fields = redis_client.hgetall(key)
    entries = [(int(name[2:]), value) for name, value in fields.items() if name.startswith("m:")]
    return stored_form.decode_messages(lo, hi, entries)


def test_pool_three_agents_ten_customers(server, connect_client):
    agents = [connect_client(server, f"agent-{i}", "agent", capacity=3) for i in range(3)]
    customers = [connect_client(server, f"customer-{i}", "customer") for i in range(10)]

    acks = [customer.call("consult") for customer in customers]

    assigned = [ack for ack in acks if ack.get("status") == "assigned"]
    queued = [ack for ack in acks if ack.get("status") == "queued"]
    assert all(ack["ok"] for ack in acks)
    assert len(assigned) == 9
    assert len(queued) == 1
    assert queued[0]["position"] == 1
    per_agent = sorted(
        sum(1 for ack in assigned if ack["conversation"]["agent"] == agent) for agent in ("agent-0", "agent-1", "agent-2")
    )
    assert per_agent == [3, 3, 3]
    assert len(agents[0].call("state")["conversations"]) == 3


def test_message_reaches_agent_once_and_stored_once(server, connect_client, redis_client, key_prefix):
    agent = connect_client(server, "agent-a", "agent")
    outsider = connect_client(server, "agent-b", "agent")
    customer = connect_client(server, "cust:1", "customer")
    conversation = customer.call("consult")["conversation"]
    peer = conversation["agent"]
    receiver, other = (agent, outsider) if peer == "agent-a" else (outsider, agent)

    ack = customer.call("message", {"to": peer, "body": "你好, order #42?", "client_msg_id": "m1"})
    received = receiver.wait_for("message", lambda m: m["type"] == "text")
    settle()

    assert ack["ok"] is True
    assert received == ack["message"]
    assert received["from"] == "cust:1"
    assert received["to"] == peer
    assert [m for m in receiver.received("message") if m["type"] == "text"] == [received]
    assert [m for m in other.received("message") if m["type"] == "text"] == []
    texts = [m for m in stored_messages(redis_client, key_prefix, "cust:1", peer) if m["type"] == "text"]
    assert texts == [ack["message"]]


def test_message_retry_same_client_id_stored_once(server, connect_client, redis_client, key_prefix):
    agent = connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    customer.call("consult")

    first = customer.call("message", {"to": "agent-a", "body": "hi", "client_msg_id": "retry-1"})
    second = customer.call("message", {"to": "agent-a", "body": "hi", "client_msg_id": "retry-1"})
    settle()

    assert second["message"] == first["message"]
    assert len([m for m in agent.received("message") if m["type"] == "text"]) == 1
    texts = [m for m in stored_messages(redis_client, key_prefix, "c1", "agent-a") if m["type"] == "text"]
    assert len(texts) == 1


def test_message_sender_is_connection_uid(server, connect_client):
    agent = connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    customer.call("consult")

    ack = customer.call("message", {"to": "agent-a", "body": "hello", "from": "agent-a"})

    assert ack["message"]["from"] == "c1"
    assert agent.wait_for("message", lambda m: m["type"] == "text")["from"] == "c1"


def test_message_to_other_agent_not_in_conversation(server, connect_client):
    connect_client(server, "agent-a", "agent", capacity=1)
    other = connect_client(server, "agent-b", "agent", capacity=1)
    customer = connect_client(server, "c1", "customer")
    mine = customer.call("consult")["conversation"]["agent"]
    stranger = "agent-b" if mine == "agent-a" else "agent-a"

    ack = customer.call("message", {"to": stranger, "body": "psst"})
    settle()

    assert ack["ok"] is False
    assert ack["error"]["code"] == "not_in_conversation"
    assert ack["error"]["message"]
    if stranger == "agent-b":
        assert [m for m in other.received("message") if m["type"] == "text"] == []


def test_agent_to_foreign_customer_not_in_conversation(server, connect_client):
    agents = {uid: connect_client(server, uid, "agent", capacity=1) for uid in ("agent-a", "agent-b")}
    for uid in ("c1", "c2"):
        connect_client(server, uid, "customer").call("consult")
    served_by_a = agents["agent-a"].call("state")["conversations"][0]["customer"]

    message_ack = agents["agent-b"].call("message", {"to": served_by_a, "body": "not yours"})
    close_ack = agents["agent-b"].call("close", {"peer": served_by_a})

    assert message_ack["error"]["code"] == "not_in_conversation"
    assert close_ack["error"]["code"] == "not_in_conversation"
    assert agents["agent-a"].call("state")["conversations"][0]["customer"] == served_by_a


def test_close_assigns_queued_customer_to_released_agent(server, connect_client):
    agent = connect_client(server, "agent-a", "agent", capacity=1)
    first = connect_client(server, "c1", "customer")
    second = connect_client(server, "c2", "customer")
    assert first.call("consult")["status"] == "assigned"
    queued = second.call("consult")

    close_ack = first.call("close")
    assigned = second.wait_for("assigned")
    closed = first.wait_for("closed")

    assert queued == {"ok": True, "status": "queued", "position": 1}
    assert close_ack == {"ok": True}
    assert closed["reason"] == "customer"
    assert assigned["conversation"]["agent"] == "agent-a"
    assert assigned["conversation"]["customer"] == "c2"
    assert agent.wait_for("assigned", lambda d: d["conversation"]["customer"] == "c2")
    assert first.call("close") == {"ok": True}


def test_queue_positions_update_live(server, connect_client):
    connect_client(server, "agent-a", "agent", capacity=1)
    customers = [connect_client(server, f"c{i}", "customer") for i in range(4)]
    acks = [customer.call("consult") for customer in customers]

    customers[0].call("close")

    assert [ack.get("position") for ack in acks] == [None, 1, 2, 3]
    assert customers[1].wait_for("assigned")["conversation"]["customer"] == "c1"
    assert customers[2].wait_for("queued", lambda d: d["position"] == 1)
    assert customers[3].wait_for("queued", lambda d: d["position"] == 2)


def test_consult_twice_returns_same_slot(server, connect_client):
    connect_client(server, "agent-a", "agent", capacity=1)
    first = connect_client(server, "c1", "customer")
    second = connect_client(server, "c2", "customer")

    assigned = [first.call("consult"), first.call("consult")]
    queued = [second.call("consult"), second.call("consult")]

    assert assigned[0] == assigned[1]
    assert queued[0] == queued[1] == {"ok": True, "status": "queued", "position": 1}


def test_several_tabs_each_get_every_message(server, connect_client):
    agent_tab1 = connect_client(server, "agent-a", "agent")
    agent_tab2 = connect_client(server, "agent-a", "agent")
    customer_tab1 = connect_client(server, "c1", "customer")
    customer_tab2 = connect_client(server, "c1", "customer")
    customer_tab1.call("consult")

    ack = customer_tab1.call("message", {"to": "agent-a", "body": "from tab one"})

    assert agent_tab1.wait_for("message", lambda m: m["type"] == "text") == ack["message"]
    assert agent_tab2.wait_for("message", lambda m: m["type"] == "text") == ack["message"]
    assert customer_tab2.wait_for("message", lambda m: m["type"] == "text") == ack["message"]
    settle()
    assert [m for m in customer_tab1.received("message") if m["type"] == "text"] == []


def test_plugin_hooks_see_each_message(start_server, connect_client):
    server = start_server({"PLUGINS": "tests.sample_plugin"})
    connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "cust-hooks", "customer")
    conversation = customer.call("consult")["conversation"]

    sent = customer.call("message", {"to": "agent-a", "body": "hello"})
    rejected = customer.call("message", {"to": "agent-a", "body": "a forbidden-word here"})
    settle()

    seen = f"sample plugin saw message seq={sent['message']['seq']} from=cust-hooks in conversation {conversation['id']}"
    assert sent["ok"] is True
    assert rejected["error"]["code"] == "message_rejected"
    assert server.log().count("sample plugin saw message") == 1
    assert seen in server.log()


def test_messages_keep_send_order(server, connect_client):
    connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "cust-order", "customer")
    customer.call("consult")
    acks = {}
    all_acked = threading.Event()

    def on_ack(index):
        def record(ack):
            acks[index] = ack
            if len(acks) == 20:
                all_acked.set()

        return record

    for index in range(20):
        customer.sio.emit("message", {"to": "agent-a", "body": f"part {index}"}, callback=on_ack(index))

    assert all_acked.wait(10)
    seqs = [acks[index]["message"]["seq"] for index in range(20)]
    assert seqs == sorted(seqs)
    assert [acks[index]["message"]["body"] for index in range(20)] == [f"part {index}" for index in range(20)]


def test_history_returns_pair_in_seq_order(server, connect_client):
    agent = connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    customer.call("consult")
    customer.call("message", {"to": "agent-a", "body": "one"})
    agent.call("message", {"to": "c1", "body": "two"})
    customer.call("message", {"to": "agent-a", "body": "three"})

    everything = customer.call("history", {"peer": "agent-a"})["messages"]
    page = agent.call("history", {"peer": "c1", "before": 4, "limit": 2})["messages"]

    assert [m["seq"] for m in everything] == [1, 2, 3, 4]
    assert everything[0]["type"] == "system"
    assert everything[0]["event"] == "started"
    assert [m["body"] for m in everything[1:]] == ["one", "two", "three"]
    assert [m["body"] for m in page] == ["one", "two"]


def test_history_of_foreign_pair_refused(server, connect_client):
    connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    customer.call("consult")

    ack = customer.call("history", {"peer": "agent-z"})

    assert ack["error"]["code"] == "not_in_conversation"


def test_typing_reaches_peer_only(server, connect_client):
    agent = connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    customer.call("consult")

    ack = customer.call("typing", {"to": "agent-a"})

    assert ack == {"ok": True}
    assert agent.wait_for("typing") == {"from": "c1"}


def test_unavailable_agent_takes_no_new_customers(server, connect_client):
    agent = connect_client(server, "agent-a", "agent", capacity=2)
    first = connect_client(server, "c1", "customer")
    first.call("consult")

    status = agent.call("status", {"available": False})
    queued = connect_client(server, "c2", "customer").call("consult")
    agent.call("status", {"available": True})

    assert status["agent"]["available"] is False
    assert queued["status"] == "queued"
    assert agent.wait_for("assigned", lambda d: d["conversation"]["customer"] == "c2")
    assert first.call("state")["conversations"][0]["agent"] == "agent-a"


def _hostile_token(kind):
    """Build a token of ``kind`` that the test server must refuse."""
    now = int(time.time())
    claims = {"sub": "agent-a", "role": "agent", "exp": now + 3600}
    if kind == "forged":
        return jwt.encode(claims, "some-other-secret-long-enough-for-hs256-signing", algorithm="HS256")
    if kind == "expired":
        return jwt.encode({**claims, "exp": now - 60}, TEST_SECRET, algorithm="HS256")
    if kind == "alg-none":
        return jwt.encode(claims, None, algorithm="none")
    if kind == "no-exp":
        return jwt.encode({"sub": "agent-a", "role": "agent"}, TEST_SECRET, algorithm="HS256")
    if kind == "unknown-role":
        return jwt.encode({**claims, "role": "admin"}, TEST_SECRET, algorithm="HS256")
    if kind == "bad-sub":
        return jwt.encode({**claims, "sub": "x" * 129}, TEST_SECRET, algorithm="HS256")
    return kind


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (None, "auth_required"),
        ("", "auth_required"),
        ("not-a-jwt", "auth_invalid"),
        ("forged", "auth_invalid"),
        ("expired", "auth_invalid"),
        ("alg-none", "auth_invalid"),
        ("no-exp", "auth_invalid"),
        ("unknown-role", "auth_invalid"),
        ("bad-sub", "invalid_uid"),
    ],
)
def test_connect_bad_token_refused(server, token, code):
    token = _hostile_token(token)
    client = ChatClient(server.url, token, connect=False)

    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect()
    client.disconnect()

    refusal = client.received("connect_error")[0]
    assert refusal["data"]["code"] == code
    assert refusal["message"] == refusal["data"]["message"]


def test_customer_calling_agent_event_forbidden(server, connect_client):
    customer = connect_client(server, "c1", "customer")
    agent = connect_client(server, "agent-a", "agent")

    status_ack = customer.call("status", {"available": False})
    consult_ack = agent.call("consult")

    assert status_ack["error"]["code"] == "forbidden_role"
    assert consult_ack["error"]["code"] == "forbidden_role"


@pytest.mark.parametrize(
    ("locale", "fragment"),
    [("en", "not in a conversation"), ("zh_CN", "会话")],
)
def test_error_message_in_connection_locale(server, connect_client, locale, fragment):
    customer = connect_client(server, "c1", "customer", locale=locale)

    ack = customer.call("message", {"to": "agent-a", "body": "hi"})

    assert ack["error"]["code"] == "not_in_conversation"
    assert fragment in ack["error"]["message"]


@pytest.mark.parametrize(
    ("event", "payload", "code"),
    [
        ("message", "just a string", "invalid_payload"),
        ("message", {"body": "no recipient"}, "invalid_payload"),
        ("message", {"to": "agent-a"}, "invalid_payload"),
        ("message", {"to": "agent-a", "body": ""}, "invalid_payload"),
        ("message", {"to": "agent-a", "body": 42}, "invalid_payload"),
        ("message", {"to": "", "body": "hi"}, "invalid_uid"),
        ("message", {"to": "x" * 129, "body": "hi"}, "invalid_uid"),
        ("message", {"to": ["agent-a"], "body": "hi"}, "invalid_uid"),
        ("message", {"to": "agent-a", "body": "x" * 4097}, "message_too_large"),
        ("message", {"to": "agent-a", "body": "bell\x07"}, "invalid_payload"),
        ("message", {"to": "agent-a", "body": "hi", "client_msg_id": 7}, "invalid_payload"),
        ("history", {"peer": "agent-a", "limit": -1}, "invalid_payload"),
        ("history", {"peer": "agent-a", "before": "3"}, "invalid_payload"),
        ("typing", {}, "invalid_payload"),
        ("consult", [1, 2], "invalid_payload"),
    ],
)
def test_malformed_payload_rejected(server, connect_client, event, payload, code):
    connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    customer.call("consult")

    ack = customer.call(event, payload)

    assert ack["ok"] is False
    assert ack["error"]["code"] == code
    assert customer.call("history", {"peer": "agent-a"})["messages"][-1]["type"] == "system"


def test_customer_reconnect_within_grace_keeps_conversation(start_server, connect_client):
    server = start_server({"RECONNECT_GRACE": 3})
    connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    conversation = customer.call("consult")["conversation"]

    customer.disconnect()
    settle(0.5)
    returning = connect_client(server, "c1", "customer")
    settle(3.5)

    assert returning.call("state")["conversations"] == [conversation]


def test_customer_gone_past_grace_times_out(start_server, connect_client):
    server = start_server({"RECONNECT_GRACE": 0.5})
    agent = connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    customer.call("consult")

    customer.disconnect()
    closed = agent.wait_for("closed")

    assert closed["reason"] == "timeout"
    assert agent.call("state")["conversations"] == []


def test_agent_lost_customers_requeued_and_reassigned(start_server, connect_client):
    server = start_server({"RECONNECT_GRACE": 0.5})
    leaving = connect_client(server, "agent-a", "agent", capacity=2)
    customers = [connect_client(server, f"c{i}", "customer") for i in range(2)]
    for customer in customers:
        customer.call("consult")
    backup = connect_client(server, "agent-b", "agent", capacity=1)

    leaving.disconnect()
    reassigned = customers[0].wait_for("assigned", lambda d: d["conversation"]["agent"] == "agent-b")
    waiting = customers[1].wait_for("queued")

    assert customers[0].wait_for("closed")["reason"] == "agent_lost"
    assert reassigned["conversation"]["customer"] == "c0"
    assert waiting["position"] == 1
    assert backup.call("state")["conversations"][0]["customer"] == "c0"


def test_rate_limit_rejects_flood(start_server, connect_client):
    server = start_server({"RATE_LIMIT_PER_SECOND": 1, "RATE_LIMIT_BURST": 5})
    customer = connect_client(server, "c1", "customer")

    acks = [customer.call("state") for _ in range(8)]

    assert [ack["ok"] for ack in acks[:5]] == [True] * 5
    assert [ack["error"]["code"] for ack in acks[5:]] == ["rate_limited"] * 3


def test_connections_per_uid_capped(start_server, connect_client):
    server = start_server({"MAX_CONNECTIONS_PER_UID": 2})
    connect_client(server, "c1", "customer")
    connect_client(server, "c1", "customer")
    extra = ChatClient(server.url, server.token("c1", "customer"), connect=False)

    with pytest.raises(socketio.exceptions.ConnectionError):
        extra.connect()
    extra.disconnect()

    assert extra.received("connect_error")[0]["data"]["code"] == "too_many_connections"
    assert connect_client(server, "c2", "customer").call("state")["ok"] is True


def test_rate_closed_conversation_once(server, connect_client, redis_client, key_prefix):
    connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    conversation = customer.call("consult")["conversation"]
    rating = {"peer": "agent-a", "conversation": conversation["id"], "score": 4, "comment": "很好 thanks"}

    early = customer.call("rate", rating)
    customer.call("close")
    first = customer.call("rate", rating)
    second = customer.call("rate", {**rating, "score": 1})
    rated = [m for m in stored_messages(redis_client, key_prefix, "c1", "agent-a") if m.get("event") == "rated"]

    assert early["error"]["code"] == "not_in_conversation"
    assert first == {"ok": True}
    assert second == {"ok": True}
    assert len(rated) == 1
    assert rated[0]["rating"] == {"score": 4, "comment": "很好 thanks"}
    assert rated[0]["conversation"] == conversation


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"peer": "agent-a", "conversation": "1", "score": 6}, "invalid_payload"),
        ({"peer": "agent-a", "conversation": "1", "score": True}, "invalid_payload"),
        ({"peer": "agent-a", "conversation": 1, "score": 3}, "invalid_payload"),
        ({"peer": "agent-a", "conversation": "1", "score": 3, "comment": "x" * 501}, "invalid_payload"),
        ({"peer": "agent-a", "conversation": "999", "score": 3}, "not_in_conversation"),
    ],
)
def test_rate_bad_payload_rejected(server, connect_client, payload, code):
    customer = connect_client(server, "c1", "customer")

    ack = customer.call("rate", payload)

    assert ack["error"]["code"] == code


def test_connect_supervisor_refused(server):
    client = ChatClient(server.url, server.token("boss", "supervisor"), connect=False)

    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect()
    client.disconnect()

    assert client.received("connect_error")[0]["data"]["code"] == "forbidden_role"


def test_agent_away_takes_no_new_customers(start_server, connect_client):
    server = start_server({"RECONNECT_GRACE": 30})
    leaving = connect_client(server, "agent-a", "agent", capacity=3)
    first = connect_client(server, "c1", "customer")
    first.call("consult")
    connect_client(server, "agent-b", "agent", capacity=3)

    leaving.disconnect()
    settle(0.5)
    later = [connect_client(server, f"c{i}", "customer").call("consult") for i in range(2, 5)]
    returning = connect_client(server, "agent-a", "agent", capacity=3)

    assert {ack["conversation"]["agent"] for ack in later} == {"agent-b"}
    assert returning.call("state")["agent"]["available"] is True
    assert returning.call("state")["conversations"][0]["customer"] == "c1"


def test_release_time_equals_next_start(server, connect_client, redis_client, key_prefix):
    connect_client(server, "agent-a", "agent", capacity=1)
    first = connect_client(server, "c1", "customer")
    second = connect_client(server, "c2", "customer")
    first.call("consult")
    second.call("consult")

    first.call("close")
    started = second.wait_for("assigned")["conversation"]
    settle()
    closed = [m for m in stored_messages(redis_client, key_prefix, "c1", "agent-a") if m.get("event") == "closed"]

    assert len(closed) == 1
    assert closed[0]["ts"] == started["started_at"]
