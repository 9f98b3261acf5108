"""Fixtures shared by every test module."""

import os
import uuid

import pytest
import redis

TEST_REDIS_URL = os.environ.get("IMFLASK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url():
    """URL of the real Redis server the tests use."""
    return TEST_REDIS_URL


@pytest.fixture
def redis_client(redis_url):
    """A client of the test Redis that returns str values."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client):
    """A key prefix unique to this test; its keys are deleted afterwards."""
    prefix = f"imtest-{uuid.uuid4().hex[:12]}"
    yield prefix
    leftover = list(redis_client.scan_iter(match=f"{prefix}*", count=1000))
    if leftover:
        redis_client.delete(*leftover)


@pytest.fixture
def app_config(redis_url, key_prefix, tmp_path, monkeypatch):
    """Settings for an app that uses the test Redis and a private instance folder."""
    monkeypatch.setenv("IMFLASK_INSTANCE_PATH", str(tmp_path / "instance"))
    return {
        "SECRET_KEY": "unit-test-secret-that-is-long-enough-for-hs256",
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": key_prefix,
        "ASYNC_MODE": "threading",
    }


@pytest.fixture
def make_app(app_config):
    """Build apps from ``app_config`` with per-test overrides."""
    from imflask import create_app

    def make(**overrides):
        return create_app({**app_config, **overrides})

    return make


@pytest.fixture
def async_mode():
    """The server's IMFLASK_ASYNC_MODE; end-to-end modules override it to run both."""
    return "eventlet"


@pytest.fixture
def start_server(redis_url, key_prefix, tmp_path, async_mode):
    """Start ``python wsgi.py`` processes on loopback ports; all are stopped afterwards."""
    from tests.harness import ServerProcess

    servers = []

    def start(settings=None, port=None):
        server = ServerProcess(
            redis_url=redis_url,
            prefix=key_prefix,
            log_path=tmp_path / f"server-{len(servers)}.log",
            settings={"ASYNC_MODE": async_mode, **(settings or {})},
            port=port,
        )
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_server):
    """One running server with the default settings."""
    return start_server()


@pytest.fixture
def connect_client():
    """Open Socket.IO clients; every one is disconnected afterwards."""
    from tests.harness import ChatClient

    clients = []

    def connect(server, uid, role, *, locale=None, **claims):
        client = ChatClient(server.url, server.token(uid, role, **claims), locale=locale)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.disconnect()
