"""Helpers for end-to-end tests: a real server process and real Socket.IO clients."""

import collections
import os
import socket
import subprocess
import sys
import threading
import time

import requests
import socketio

from imflask.tokens import mint_token

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST_SECRET = "test-secret-key-for-imflask-end-to-end-tests"
WAIT_SECONDS = 5.0


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """``python wsgi.py`` running on a loopback port with its own key prefix."""

    def __init__(self, *, redis_url, prefix, log_path, settings=None, port=None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = dict(os.environ)
        self.env.update(
            {
                "SECRET_KEY": TEST_SECRET,
                "IMFLASK_HOST": "127.0.0.1",
                "IMFLASK_PORT": str(self.port),
                "IMFLASK_REDIS_URL": redis_url,
                "IMFLASK_REDIS_PREFIX": prefix,
                "IMFLASK_SWEEP_INTERVAL": "0.2",
            }
        )
        self.env.update({f"IMFLASK_{key}": str(value) for key, value in (settings or {}).items()})
        self.process = None

    def start(self):
        """Start the process and wait until /healthz returns 200."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "wsgi.py"], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer on {self.url} within 20 s:\n{self.log()}")

    def stop(self, sig=None):
        """Stop the process (SIGTERM, or ``sig``) and wait for it."""
        if self.process is None or self.process.poll() is not None:
            return
        if sig is None:
            self.process.terminate()
        else:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self):
        """Return what the server printed so far."""
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def token(self, uid, role, **claims):
        """Mint a token this server accepts."""
        return mint_token(TEST_SECRET, uid, role, **claims)


class ChatClient:
    """A python-socketio client over websocket that records every server event."""

    def __init__(self, url, token=None, *, locale=None, connect=True):
        self.url = url
        self.token = token
        self.locale = locale
        self.sio = socketio.Client(reconnection=False)
        self.events = collections.defaultdict(list)
        self._changed = threading.Condition()
        self.sio.on("*", self._record)
        self.sio.on("connect_error", lambda data=None: self._record("connect_error", data))
        if connect:
            self.connect()

    def connect(self):
        auth = {}
        if self.token is not None:
            auth["token"] = self.token
        if self.locale:
            auth["locale"] = self.locale
        self.sio.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=WAIT_SECONDS)
        return self

    def call(self, event, data=None, timeout=WAIT_SECONDS):
        """Emit ``event`` and return its ack."""
        return self.sio.call(event, {} if data is None else data, timeout=timeout)

    def wait_for(self, event, predicate=lambda data: True, timeout=WAIT_SECONDS):
        """Return the first received ``event`` whose data matches ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for data in self.events[event]:
                    if predicate(data):
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {event!r} event matched within {timeout} s; got {self.events[event]!r}")
                self._changed.wait(remaining)

    def received(self, event):
        """Return a copy of the data of every ``event`` received so far."""
        with self._changed:
            return list(self.events[event])

    def disconnect(self):
        """Close the connection, and its socket too when the server already dropped it."""
        if self.sio.connected:
            self.sio.disconnect()
        if self.sio.eio.state != "disconnected":
            self.sio.eio.disconnect(abort=True)
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            ws.close()

    def _record(self, event, data=None):
        with self._changed:
            self.events[event].append(data)
            self._changed.notify_all()


def settle(seconds=0.3):
    """Give in-flight events a moment to arrive before asserting that none did."""
    time.sleep(seconds)
