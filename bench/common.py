"""Shared pieces of the benchmark drivers: servers under test, /proc readings, statistics.

The drivers run on loopback only. Every server they start listens on
127.0.0.1, and every Redis key they write starts with a prefix of their own
that they delete afterwards.
"""

import datetime
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_REDIS_URL = os.environ.get("IMFLASK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BENCH_SECRET = "imflask-benchmark-secret-key-not-for-production-use"
START_TIMEOUT = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# The example plugin of examples/imflask-wordfilter is installed in the
# development virtualenv, but it is not part of the default plugin set.
EXAMPLE_PLUGINS = "wordfilter"


# -- machine and process readings ----------------------------------------------


def machine_description():
    """Return the facts a benchmark record needs about this machine, now."""
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    with open("/proc/meminfo", encoding="utf-8") as handle:
        total_kib = int(handle.readline().split()[1])

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "memory_gib": round(total_kib / 1024 / 1024, 1),
        "cpu_model": model,
        "python": platform.python_version(),
        "load_average": load_average(),
    }


def load_average():
    """Return the 1, 5 and 15 minute load averages, rounded to two decimals."""
    return [round(value, 2) for value in os.getloadavg()]


def cpu_seconds(pid):
    """Return the user plus system CPU time of process ``pid`` in seconds, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        text = handle.read()
    # The command name in brackets may contain spaces, so count fields after its closing bracket.
    fields = text[text.rindex(")") + 2:].split()
    user_ticks, system_ticks = int(fields[11]), int(fields[12])
    return (user_ticks + system_ticks) / CLOCK_TICKS


def rss_bytes(pid):
    """Return the resident set size of process ``pid`` in bytes, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS line in /proc/{pid}/status")


def redis_server_pid(client):
    """Return the pid of the Redis server if it runs on this machine, else None."""
    pid = int(client.info("server")["process_id"])
    return pid if os.path.exists(f"/proc/{pid}/stat") else None


# -- statistics ----------------------------------------------------------------


def percentile(sorted_values, fraction):
    """Return the nearest-rank percentile of an ascending list, e.g. fraction=0.99."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def median(values):
    """Return the median of the values that are not None, or None when there are none."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def markdown_table(headers, rows):
    """Return a Markdown table; floats are printed with at most three significant decimals."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    return "\n".join(lines)


def _cell(value):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# -- Redis -----------------------------------------------------------------------


def save_results(path, options, machine, **results):
    """Write the options, the machine and ``results`` (for example ``records=[...]``) to ``path`` as JSON.

    Does nothing when ``path`` is empty, so scripts pass ``options.json`` as it is.
    """
    if not path:
        return
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"options": vars(options), "machine": machine, **results}, handle, indent=1)


def unique_prefix(benchmark):
    """Return a fresh key prefix, so a run never touches another run's keys."""
    return f"bench-{benchmark}-{uuid.uuid4().hex[:10]}"


def delete_prefix(client, prefix):
    """Delete every key that starts with ``prefix:``; return how many were deleted."""
    deleted = 0
    batch = []
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += client.unlink(*batch)
            batch = []
    if batch:
        deleted += client.unlink(*batch)
    return deleted


# -- servers under test --------------------------------------------------------


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerUnderTest:
    """A server process on a loopback port: imflask's ``python wsgi.py`` or a baseline.

    ``kind`` is "bare", "redis" or "imflask". ``prefix`` is the Redis key
    prefix the server writes under, or None for the bare relay.
    """

    def __init__(self, kind, argv, env, port, prefix=None):
        self.kind = kind
        self.argv = argv
        self.env = env
        self.port = port
        self.prefix = prefix
        self.url = f"http://127.0.0.1:{port}"
        self.process = None
        self.log_file = tempfile.NamedTemporaryFile(prefix=f"bench-{kind}-", suffix=".log", delete=False)

    @property
    def pid(self):
        """The server's process id."""
        return self.process.pid

    def start(self):
        """Start the process and wait until GET /healthz returns 200."""
        self.process = subprocess.Popen(
            self.argv, cwd=PROJECT_ROOT, env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} server did not respond on {self.url} within {START_TIMEOUT} s:\n{self.log()}")

    def stop(self):
        """Stop the process with SIGTERM, then SIGKILL after 10 seconds."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log_file.close()

    def log(self):
        """Return what the server printed so far."""
        with open(self.log_file.name, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def remove_log(self):
        """Delete the log file, after a run that went well."""
        os.unlink(self.log_file.name)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def imflask_server(*, redis_url, async_mode="eventlet", settings=None):
    """Return imflask's ``python wsgi.py`` on a free port, under a fresh key prefix.

    ``settings`` are extra ``IMFLASK_*`` options without the prefix. The
    example word-filter plugin is disabled so the default plugin set runs.
    """
    port = free_port()
    prefix = unique_prefix("server")
    env = dict(os.environ)
    env.update(
        {
            "SECRET_KEY": BENCH_SECRET,
            "IMFLASK_HOST": "127.0.0.1",
            "IMFLASK_PORT": str(port),
            "IMFLASK_REDIS_URL": redis_url,
            "IMFLASK_REDIS_PREFIX": prefix,
            "IMFLASK_ASYNC_MODE": async_mode,
            "IMFLASK_DISABLE_PLUGINS": EXAMPLE_PLUGINS,
        }
    )
    env.update({f"IMFLASK_{name}": str(value) for name, value in (settings or {}).items()})
    return ServerUnderTest("imflask", [sys.executable, "wsgi.py"], env, port, prefix)


def baseline_server(kind, *, redis_url=None, async_mode="eventlet", max_connections=10000):
    """Return a baseline relay on a free port: ``kind`` "bare" or "redis" (with one HSET + EXPIRE per message)."""
    port = free_port()
    argv = [
        sys.executable, "-m", f"bench.baseline_{kind}",
        "--port", str(port),
        "--async-mode", async_mode,
        "--max-connections", str(max_connections),
    ]
    prefix = None
    if kind == "redis":
        prefix = unique_prefix("baseline")
        argv += ["--redis-url", redis_url, "--prefix", prefix]
    return ServerUnderTest(kind, argv, dict(os.environ), port, prefix)


def make_server(kind, *, redis_url, async_mode="eventlet", imflask_settings=None):
    """Return the server of ``kind``: "bare", "redis" or "imflask"."""
    if kind == "imflask":
        return imflask_server(redis_url=redis_url, async_mode=async_mode, settings=imflask_settings)
    return baseline_server(kind, redis_url=redis_url, async_mode=async_mode)


def client_auth(server, uid, role, *, capacity=None):
    """Return the Socket.IO ``auth`` object that ``server`` accepts for ``uid``."""
    if server.kind != "imflask":
        return {"uid": uid}

    from imflask.tokens import mint_token

    return {"token": mint_token(BENCH_SECRET, uid, role, capacity=capacity, ttl=3600)}


# -- the Node.js load generators -----------------------------------------------


def node_available():
    """Return why the Node.js generators cannot run, or None when they can."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not os.path.exists(os.path.join(PROJECT_ROOT, "node_modules", "socket.io-client")):
        return "node_modules/socket.io-client is missing: run `npm ci`"
    return None


class NodeGenerator:
    """A Node.js script in bench/ that reads JSON commands on stdin and writes JSON lines on stdout."""

    def __init__(self, script, config):
        self.process = subprocess.Popen(
            ["node", os.path.join(PROJECT_ROOT, "bench", script)],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.send(config)

    @property
    def pid(self):
        """The generator's process id."""
        return self.process.pid

    def send(self, command):
        """Write ``command`` as one line: a str as it is, anything else as JSON."""
        line = command if isinstance(command, str) else json.dumps(command)
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def receive(self):
        """Return the next JSON line the generator writes; raise if it exits first."""
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait(timeout=10)
            raise RuntimeError(f"load generator {self.process.args[1]} exited with {code} before its reply")
        reply = json.loads(line)
        if reply.get("event") == "error":
            raise RuntimeError(f"load generator failed: {reply.get('message')}")
        return reply

    def close(self):
        """Close stdin, on which the generator disconnects and exits, and wait for it."""
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
