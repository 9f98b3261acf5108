"""The launcher and the runtime settings it must act on."""

import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest
import redis
import requests
import websocket

from imflask.redis_client import connect_redis
from imflask.server import NoDelayListener
from tests.harness import PROJECT_ROOT, ChatClient, free_port, settle

pytestmark = pytest.mark.timeout(60)


def test_nodelay_listener_sets_option_on_accepted_socket():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        wrapped = NoDelayListener(listener)
        with socket.create_connection(listener.getsockname()) as client:
            accepted, _ = wrapped.accept()
            with accepted:
                nodelay = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            assert client

    assert nodelay == 1


def test_connect_redis_uses_blocking_pool(redis_url, tmp_path):
    config = {"REDIS_URL": redis_url, "REDIS_MAX_CONNECTIONS": 7, "REDIS_POOL_TIMEOUT": 2.0}

    handle = connect_redis(config, str(tmp_path))

    assert isinstance(handle.client.connection_pool, redis.BlockingConnectionPool)
    assert handle.client.connection_pool.max_connections == 7
    assert handle.client.ping() is True
    handle.close()


def _websocket_headers(server, offer_deflate):
    headers = ["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"] if offer_deflate else []
    url = f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket"
    connection = websocket.create_connection(url, timeout=5, header=headers)
    try:
        return {name.lower(): value for name, value in connection.getheaders().items()}
    finally:
        connection.close()


def test_websocket_deflate_off_by_default(server):
    headers = _websocket_headers(server, offer_deflate=True)

    assert "sec-websocket-extensions" not in headers


def test_websocket_deflate_setting_turns_it_on(start_server):
    server = start_server({"WEBSOCKET_DEFLATE": "true"})

    headers = _websocket_headers(server, offer_deflate=True)

    assert "permessage-deflate" in headers.get("sec-websocket-extensions", "")


def test_server_logs_url_and_stops_on_sigterm(server):
    client = ChatClient(server.url, server.token("c1", "customer"))
    assert client.call("state")["ok"] is True

    started = time.monotonic()
    server.stop()
    elapsed = time.monotonic() - started
    client.disconnect()

    log = server.log()
    assert f"imflask serving on http://127.0.0.1:{server.port}" in log
    assert "imflask stopped" in log
    assert server.process.returncode == 0
    assert elapsed < 5


def test_missing_secret_key_stops_startup(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "IMFLASK_PORT": str(free_port()), "IMFLASK_INSTANCE_PATH": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "wsgi.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def process_gone(pid, timeout):
    """Return whether process ``pid`` has exited (or is a zombie) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def test_embedded_redis_serves_a_chat(start_server, tmp_path):
    port = free_port()
    server = start_server({"INSTANCE_PATH": str(tmp_path / "instance")}, port=port)
    del server.env["IMFLASK_REDIS_URL"]
    server.stop()
    server.start()
    agent = ChatClient(server.url, server.token("agent-a", "agent"))
    customer = ChatClient(server.url, server.token("c1", "customer"))

    try:
        assigned = customer.call("consult")
        ack = customer.call("message", {"to": "agent-a", "body": "embedded hello"})
        received = agent.wait_for("message", lambda m: m["type"] == "text")
    finally:
        agent.disconnect()
        customer.disconnect()
        settle(0.2)

    pid = int(re.search(r"started an embedded Redis \(pid (\d+)", server.log()).group(1))
    server.stop()
    assert assigned["conversation"]["agent"] == "agent-a"
    assert received == ack["message"]
    assert process_gone(pid, timeout=5)
    assert (tmp_path / "instance").is_dir()


def test_cli_without_secret_key_one_line_error(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "IMFLASK_INSTANCE_PATH": str(tmp_path)}
    flask = os.path.join(os.path.dirname(sys.executable), "flask")

    result = subprocess.run(
        [flask, "--app", "wsgi", "im", "plugins"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0
    assert "imflask cannot start: SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_concurrent_requests_share_redis_batches(server):
    clients = [ChatClient(server.url, server.token(f"c{index}", "customer")) for index in range(8)]
    acks = []

    def ask_state(client):
        acks.extend(client.call("state")["ok"] for _ in range(5))

    threads = [threading.Thread(target=ask_state, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    server.stop()
    for client in clients:
        client.disconnect()

    assert acks == [True] * 40
    match = re.search(r"Redis command batching stopped after (\d+) batches of (\d+) commands", server.log())
    batches, commands = int(match.group(1)), int(match.group(2))
    assert commands >= 40
    assert batches < commands


def test_redis_batching_can_be_turned_off(start_server):
    server = start_server({"REDIS_AUTOPIPELINE": "false"})
    client = ChatClient(server.url, server.token("c1", "customer"))
    assert client.call("state")["ok"] is True

    server.stop()
    client.disconnect()

    log = server.log()
    assert "Redis command batching is off" in log
    assert "Redis command batching stopped" not in log
