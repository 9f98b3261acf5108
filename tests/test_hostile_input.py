"""Malformed and hostile payloads: each gets the right error code and changes nothing.

A scripted chat runs twice against real server processes: once clean and
once with a corpus of more than 200 malformed payloads sent between its
steps. Afterwards the allocation state and the stored history of both runs
must be equal.
"""

import json

import pytest
import socketio
import websocket

from plugins.redis_history import RedisHistoryStore
from plugins.tier.strategy import TierStrategy
from tests.harness import ChatClient, settle

pytestmark = pytest.mark.timeout(120)

AGENT = "agent-a"
CUSTOMER = "c1"
HIGH_RATE = {"RATE_LIMIT_PER_SECOND": 100000, "RATE_LIMIT_BURST": 100000}

# Values for a uid field, with the code each one must produce in a payload
# that is otherwise valid. Well-formed uids that are not the peer give
# not_in_conversation.
UID_CASES = [
    (None, "invalid_uid"),
    (True, "invalid_uid"),
    (1.5, "invalid_uid"),
    ("", "invalid_uid"),
    ("x" * 129, "invalid_uid"),
    ([], "invalid_uid"),
    ([AGENT], "invalid_uid"),
    ({}, "invalid_uid"),
    ({"uid": AGENT}, "invalid_uid"),
    (b"agent-a", "invalid_uid"),
    ("\ud800", "invalid_uid"),
    ("nul\x00", "invalid_uid"),
    ("tab\there", "invalid_uid"),
    ("line\nbreak", "invalid_uid"),
    ("del\x7f", "invalid_uid"),
    (7, "not_in_conversation"),
    (-1, "not_in_conversation"),
    ("agent-a:1", "not_in_conversation"),
    ("{alloc}", "not_in_conversation"),
    ("user:agent-a", "not_in_conversation"),
    ("客服", "not_in_conversation"),
    ("x" * 128, "not_in_conversation"),
]

BODY_CASES = [
    (None, "invalid_payload"),
    (5, "invalid_payload"),
    (True, "invalid_payload"),
    ([], "invalid_payload"),
    (["hi"], "invalid_payload"),
    ({"text": "hi"}, "invalid_payload"),
    (b"hi", "invalid_payload"),
    ("", "invalid_payload"),
    ("   \n\t", "invalid_payload"),
    ("nul\x00", "invalid_payload"),
    ("\x1b[31mred", "invalid_payload"),
    ("bell\x07", "invalid_payload"),
    ("\ud800 lone surrogate", "invalid_payload"),
    ("x" * 4097, "message_too_large"),
    ("汉" * 1366, "message_too_large"),
    ("🙂" * 1025, "message_too_large"),
]

CLIENT_ID_CASES = [
    (5, "invalid_payload"),
    ("", "invalid_payload"),
    ("x" * 65, "invalid_payload"),
    ("a\nb", "invalid_payload"),
    ([], "invalid_payload"),
    ({}, "invalid_payload"),
    ("\ud800", "invalid_payload"),
    (True, "invalid_payload"),
]

POSITIVE_INT_CASES = [
    (0, "invalid_payload"),
    (-1, "invalid_payload"),
    ("3", "invalid_payload"),
    (1.5, "invalid_payload"),
    (True, "invalid_payload"),
    ([], "invalid_payload"),
    ({}, "invalid_payload"),
]

BOOL_CASES = [(None, "invalid_payload"), (1, "invalid_payload"), ("true", "invalid_payload"), ([], "invalid_payload")]

NOT_AN_OBJECT = ["text", 5, 1.5, True, [1, 2], [{"to": AGENT}], b"\x00\xff"]

CLIENT_EVENTS = ("state", "consult", "message", "close", "history", "typing", "status", "rate")


def customer_cases(conversation_id):
    """Return (event, payload, code) cases a customer sends during a conversation."""
    cases = []
    for value, code in UID_CASES:
        cases.append(("message", {"to": value, "body": "hi"}, code))
        cases.append(("history", {"peer": value}, code))
        cases.append(("typing", {"to": value}, code))
    for value, code in BODY_CASES:
        cases.append(("message", {"to": AGENT, "body": value}, code))
    for value, code in CLIENT_ID_CASES:
        cases.append(("message", {"to": AGENT, "body": "hi", "client_msg_id": value}, code))
    for value, code in POSITIVE_INT_CASES:
        cases.append(("history", {"peer": AGENT, "before": value}, code))
        cases.append(("history", {"peer": AGENT, "limit": value}, code))
    for event in CLIENT_EVENTS:
        for payload in NOT_AN_OBJECT:
            cases.append((event, payload, "invalid_payload"))
    cases += [
        ("message", {"body": "hi"}, "invalid_payload"),
        ("message", {"to": AGENT}, "invalid_payload"),
        ("message", {"to": AGENT, "body": {"nested": [[[[{"deep": "junk"}]]]]}}, "invalid_payload"),
        ("history", {}, "invalid_payload"),
        ("typing", {}, "invalid_payload"),
        ("status", {"available": False}, "forbidden_role"),
        ("rate", {"peer": AGENT, "conversation": conversation_id, "score": 5}, "not_in_conversation"),
        ("rate", {"peer": AGENT, "conversation": conversation_id, "score": 0}, "invalid_payload"),
        ("rate", {"peer": AGENT, "conversation": conversation_id, "score": "5"}, "invalid_payload"),
        ("rate", {"peer": AGENT, "conversation": 1, "score": 5}, "invalid_payload"),
        ("rate", {"peer": AGENT, "conversation": "", "score": 5}, "invalid_payload"),
        ("rate", {"peer": AGENT, "conversation": conversation_id, "score": 5, "comment": 5}, "invalid_payload"),
        ("rate", {"peer": AGENT, "conversation": conversation_id, "score": 5, "comment": "\x00"}, "invalid_payload"),
        ("no_such_event", {}, "invalid_payload"),
        ("assigned", {"conversation": {}}, "invalid_payload"),
    ]
    return cases


def agent_cases():
    """Return (event, payload, code) cases an agent sends."""
    cases = [(event, payload, "invalid_payload") for event in ("close", "status") for payload in NOT_AN_OBJECT]
    # An agent closing a customer who has no conversation is an idempotent
    # no-op, so only malformed uids are errors here.
    for value, code in UID_CASES:
        if code == "invalid_uid":
            cases.append(("close", {"peer": value}, code))
    for value, code in BOOL_CASES:
        cases.append(("status", {"available": value}, code))
    cases += [
        ("close", {}, "invalid_payload"),
        ("consult", {}, "forbidden_role"),
        ("rate", {"peer": CUSTOMER, "conversation": "1", "score": 5}, "forbidden_role"),
    ]
    return cases


def run_script(server, corpus=None):
    """Play a fixed chat; with ``corpus``, send every malformed case between steps.

    Returns the list of (case, ack) pairs whose ack did not carry the expected code.
    """
    agent = ChatClient(server.url, server.token(AGENT, "agent", capacity=2))
    customer = ChatClient(server.url, server.token(CUSTOMER, "customer"))
    other = ChatClient(server.url, server.token("c2", "customer"))
    mismatches = []

    def hostile(client, cases):
        for event, payload, code in cases if corpus else []:
            ack = client.call(event, payload)
            if ack.get("ok") is not False or ack["error"]["code"] != code:
                mismatches.append(((event, payload, code), ack))

    try:
        conversation = customer.call("consult")["conversation"]
        hostile(customer, customer_cases(conversation["id"]))
        customer.call("message", {"to": AGENT, "body": "hello", "client_msg_id": "m1"})
        hostile(agent, agent_cases())
        agent.call("message", {"to": CUSTOMER, "body": "hi, how can I help?"})
        other.call("consult")
        hostile(customer, customer_cases(conversation["id"]))
        customer.call("message", {"to": AGENT, "body": "bye"})
        customer.call("close")
        settle(0.3)
    finally:
        for client in (agent, customer, other):
            client.disconnect()
    # The agent's last disconnect pauses it for new customers: let that land.
    settle(0.5)
    return mismatches


def normalized_state(redis_client, prefix):
    """Return allocation state and histories with times removed, for comparison."""
    snapshot = TierStrategy(redis_client, prefix=prefix).snapshot()
    store = RedisHistoryStore(redis_client, prefix=prefix)
    histories = {}
    for customer in (CUSTOMER, "c2"):
        messages = store.read(customer, AGENT, limit=1000)
        histories[customer] = [_without_times(message) for message in messages]
    conversations = {c: (v.id, v.customer, v.agent) for c, v in snapshot["conversations"].items()}
    return {
        "pointer": snapshot["pointer"],
        "agents": snapshot["agents"],
        "queue": snapshot["queue"],
        "conversations": conversations,
        "histories": histories,
    }


def _without_times(message):
    stripped = {key: value for key, value in message.items() if key != "ts"}
    if "conversation" in stripped:
        stripped["conversation"] = {k: v for k, v in stripped["conversation"].items() if k != "started_at"}
    return stripped


def test_corpus_has_at_least_200_cases():
    total = len(customer_cases("1")) * 2 + len(agent_cases())

    assert total >= 200


def test_hostile_corpus_rejected_and_changes_nothing(start_server, redis_client, key_prefix):
    clean_prefix = f"{key_prefix}-clean"
    clean = start_server({**HIGH_RATE, "REDIS_PREFIX": clean_prefix})
    hostile = start_server(HIGH_RATE)

    clean_mismatches = run_script(clean)
    hostile_mismatches = run_script(hostile, corpus=True)

    try:
        assert clean_mismatches == []
        assert hostile_mismatches == []
        assert normalized_state(redis_client, key_prefix) == normalized_state(redis_client, clean_prefix)
        assert "Traceback" not in hostile.log()
    finally:
        leftover = list(redis_client.scan_iter(match=f"{clean_prefix}*"))
        if leftover:
            redis_client.delete(*leftover)


def raw_socketio(server, token):
    """Open a raw Engine.IO websocket and join the default namespace with ``token``."""
    url = f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket"
    connection = websocket.create_connection(url, timeout=5)
    assert connection.recv().startswith("0")
    connection.send("40" + json.dumps({"token": token}))
    assert connection.recv().startswith("40")
    return connection


def send_raw_packet(server, packet, max_frames=10):
    """Send one raw Socket.IO packet as a customer; return the frames received until the socket closes."""
    connection = raw_socketio(server, server.token(CUSTOMER, "customer"))
    connection.send(packet)
    frames = []
    try:
        while len(frames) < max_frames:
            frame = connection.recv()
            if not frame:
                break
            frames.append(frame)
    except (websocket.WebSocketException, OSError):
        pass
    finally:
        connection.shutdown()
    return frames


def new_client_state_ok(server):
    """Return whether a fresh client still gets an ok ``state`` ack from ``server``."""
    survivor = ChatClient(server.url, server.token("c2", "customer"))
    try:
        return survivor.call("state")["ok"] is True
    finally:
        survivor.disconnect()


def test_deeply_nested_payload_server_survives(server):
    depth = 5000
    nested = "[" * depth + "]" * depth

    frames = send_raw_packet(server, '421["message",{"to":"agent-a","body":' + nested + "}]", max_frames=1)

    assert new_client_state_ok(server)
    assert frames == [] or '"invalid_payload"' in frames[0]


def test_oversized_packet_drops_connection_server_survives(server):
    huge = "x" * 200_000

    frames = send_raw_packet(server, '421["message",{"to":"agent-a","body":"' + huge + '"}]')

    assert new_client_state_ok(server)
    assert not any(frame.startswith("431") for frame in frames)


@pytest.mark.parametrize("extra_args", [1, 2])
def test_extra_arguments_rejected(server, extra_args):
    client = ChatClient(server.url, server.token(CUSTOMER, "customer"))

    try:
        ack = client.sio.call("state", tuple([{}] * (extra_args + 1)), timeout=5)
    finally:
        client.disconnect()

    assert ack["error"]["code"] == "invalid_payload"
