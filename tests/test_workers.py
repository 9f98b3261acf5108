"""Two server processes sharing Redis and the Socket.IO message queue."""

import asyncio
import time

import pytest
import socketio

from plugins.tier.strategy import TierStrategy

pytestmark = pytest.mark.timeout(180)

AGENTS = 20
CAPACITY = 3
CUSTOMERS = 200
CALL_TIMEOUT = 20


@pytest.fixture
def two_workers(start_server, redis_url):
    """Two servers on their own ports, joined by the Redis message queue."""
    settings = {"MESSAGE_QUEUE": redis_url, "RATE_LIMIT_BURST": 1000}
    return start_server(settings), start_server(settings)


def test_chat_across_workers_both_ways(two_workers, connect_client):
    first, second = two_workers
    agent = connect_client(second, "agent-a", "agent")
    customer = connect_client(first, "c1", "customer")
    customer.call("consult")

    to_agent = customer.call("message", {"to": "agent-a", "body": "from worker one"})
    to_customer = agent.call("message", {"to": "c1", "body": "from worker two"})

    assert agent.wait_for("assigned")["conversation"]["customer"] == "c1"
    assert agent.wait_for("message", lambda m: m["type"] == "text") == to_agent["message"]
    assert customer.wait_for("message", lambda m: m.get("from") == "agent-a") == to_customer["message"]


def test_reconnect_on_other_worker_within_grace(start_server, redis_url, connect_client):
    settings = {"MESSAGE_QUEUE": redis_url, "RECONNECT_GRACE": 2}
    first, second = start_server(settings), start_server(settings)
    connect_client(first, "agent-a", "agent")
    customer = connect_client(first, "c1", "customer")
    conversation = customer.call("consult")["conversation"]

    customer.disconnect()
    returning = connect_client(second, "c1", "customer")
    returning_state = None
    for _ in range(3):
        returning_state = returning.call("state")
        time.sleep(1)

    assert returning_state["conversations"] == [conversation]


async def _connect(server, uid, role, **claims):
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        server.url, auth={"token": server.token(uid, role, **claims)}, transports=["websocket"], wait_timeout=10
    )
    return client


async def _consult_storm(servers):
    agents = [await _connect(servers[i % 2], f"agent-{i:02d}", "agent", capacity=CAPACITY) for i in range(AGENTS)]
    customers = await asyncio.gather(
        *(_connect(servers[i % 2], f"customer-{i:03d}", "customer") for i in range(CUSTOMERS))
    )
    acks = await asyncio.gather(*(client.call("consult", {}, timeout=CALL_TIMEOUT) for client in customers))
    return agents, customers, acks


async def _close_all(customers, strategy):
    """Close every conversation, and the ones the queue drain starts, until none is left."""
    for _ in range(CUSTOMERS):
        snapshot = strategy.snapshot()
        if not snapshot["conversations"] and not snapshot["queue"]:
            return snapshot
        active = [client for client, uid in customers if uid in snapshot["conversations"]]
        await asyncio.gather(*(client.call("close", {}, timeout=CALL_TIMEOUT) for client in active))
    return strategy.snapshot()


async def _storm_scenario(servers, strategy):
    agents, customers, acks = await _consult_storm(servers)
    during = strategy.snapshot()
    named = [(client, f"customer-{i:03d}") for i, client in enumerate(customers)]
    after = await _close_all(named, strategy)
    await asyncio.gather(*(client.disconnect() for client in [*agents, *customers]))
    return acks, during, after


def test_consult_storm_fills_pool_then_queue(two_workers, redis_client, key_prefix):
    strategy = TierStrategy(redis_client, prefix=key_prefix)

    acks, during, after = asyncio.run(_storm_scenario(two_workers, strategy))

    assigned = [ack for ack in acks if ack.get("status") == "assigned"]
    positions = sorted(ack["position"] for ack in acks if ack.get("status") == "queued")
    assert all(ack["ok"] for ack in acks)
    assert len(assigned) == AGENTS * CAPACITY
    assert positions == list(range(1, CUSTOMERS - AGENTS * CAPACITY + 1))
    assert max(agent["load"] for agent in during["agents"].values()) == CAPACITY
    assert during["pointer"] == "full"
    assert after["queue"] == []
    assert after["conversations"] == {}
    assert {agent["load"] for agent in after["agents"].values()} == {0}
    assert after["pointer"] == 0
