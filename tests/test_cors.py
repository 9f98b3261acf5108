"""IMFLASK_CORS_ORIGINS is enforced at the Socket.IO handshake."""

import pytest
import requests

pytestmark = pytest.mark.timeout(60)

ALLOWED = "http://127.0.0.1:8123"
OTHER = "http://shop.invalid"


def handshake_status(server, origin):
    """Return the HTTP status of an Engine.IO polling handshake sent with ``origin``."""
    headers = {"Origin": origin} if origin else {}
    response = requests.get(f"{server.url}/socket.io/?EIO=4&transport=polling", headers=headers, timeout=5)
    return response.status_code, response.headers.get("Access-Control-Allow-Origin")


def test_cors_listed_origin_accepted(start_server):
    server = start_server({"CORS_ORIGINS": ALLOWED})

    status, allow_origin = handshake_status(server, ALLOWED)

    assert status == 200
    assert allow_origin == ALLOWED


def test_cors_other_origin_rejected(start_server):
    server = start_server({"CORS_ORIGINS": ALLOWED})

    status, allow_origin = handshake_status(server, OTHER)

    assert status == 400
    assert allow_origin is None


def test_cors_default_allows_same_origin_only(server):
    same_status, _ = handshake_status(server, server.url)
    other_status, _ = handshake_status(server, OTHER)

    assert same_status == 200
    assert other_status == 400


def test_cors_no_origin_header_accepted(server):
    status, _ = handshake_status(server, None)

    assert status == 200
