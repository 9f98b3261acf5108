"""The documented nginx configuration in front of two workers, on loopback."""

import os
import re
import shutil
import subprocess
import time

import pytest
import requests

from tests.harness import ChatClient, PROJECT_ROOT, free_port

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (.ci/run installs it)"),
]

SITE_CONFIG = os.path.join(PROJECT_ROOT, "docs", "nginx", "imflask.conf")


def write_nginx_config(directory, listen_port, worker_ports):
    """Write a main nginx.conf that includes the documented site with test ports."""
    with open(SITE_CONFIG, encoding="utf-8") as handle:
        site = handle.read()
    site = site.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{listen_port};")
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in worker_ports)
    site = re.sub(r"(    server 127\.0\.0\.1:500\d;\n)+", servers, site)

    temp = os.path.join(directory, "temp")
    os.makedirs(temp, mode=0o777, exist_ok=True)
    main = f"""
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{site}
}}
"""
    path = os.path.join(directory, "nginx.conf")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(main)
    return path


@pytest.fixture
def proxy(start_server, redis_url, tmp_path):
    """nginx on a free loopback port in front of two workers sharing the message queue."""
    settings = {"MESSAGE_QUEUE": redis_url}
    workers = [start_server(settings), start_server(settings)]
    os.chmod(tmp_path, 0o755)
    port = free_port()
    config = write_nginx_config(str(tmp_path), port, [worker.port for worker in workers])
    with open(tmp_path / "nginx.out", "wb") as output:
        process = subprocess.Popen(["nginx", "-c", config, "-g", "daemon off;"], stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield url, workers
    process.terminate()
    process.wait(timeout=10)


def test_nginx_proxies_health(proxy):
    url, _ = proxy

    response = requests.get(f"{url}/healthz", timeout=5)

    assert response.json() == {"ok": True, "redis": "ok"}


@pytest.mark.parametrize("transports", [["websocket"], ["polling", "websocket"]])
def test_nginx_chat_through_proxy(proxy, transports):
    url, workers = proxy
    token = workers[0].token
    agent = ChatClient(url, token("agent-a", "agent"), connect=False)
    customer = ChatClient(url, token("c1", "customer"), connect=False)
    for client in (agent, customer):
        client.sio.connect(url, auth={"token": client.token}, transports=transports, wait_timeout=5)

    try:
        customer.call("consult")
        ack = customer.call("message", {"to": "agent-a", "body": "via nginx"})
        received = agent.wait_for("message", lambda m: m["type"] == "text")
        transport = customer.sio.transport()
    finally:
        agent.disconnect()
        customer.disconnect()

    assert received == ack["message"]
    assert transport == "websocket"
