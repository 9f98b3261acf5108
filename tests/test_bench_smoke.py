"""Smoke runs of the benchmark scripts in bench/ with tiny sizes, so they keep working.

They check that each script runs to the end and prints its tables, not
what it measures. The relay and connection benchmarks need Node.js and the
npm packages (``npm ci``); without them those tests are skipped.
"""

import os
import shutil
import subprocess
import sys

import pytest

from tests.harness import PROJECT_ROOT

SCRIPT_TIMEOUT = 30

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not os.path.isdir(os.path.join(PROJECT_ROOT, "node_modules", "socket.io-client")),
    reason="the load generators need node and node_modules/socket.io-client",
)


def run_benchmark(redis_url, module, *arguments):
    """Run ``python -m bench.<module>`` and return its standard output; fail on a non-zero exit."""
    env = dict(os.environ, IMFLASK_BENCH_REDIS_URL=redis_url)
    completed = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *arguments],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
    )
    assert completed.returncode == 0, f"bench.{module} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


@needs_node
def test_relay_window_tiny(redis_url):
    output = run_benchmark(redis_url, "relay", "--pairs", "2", "--messages", "5", "--window", "2", "--runs", "1")

    assert "run 1 eventlet bare: load" in output
    assert "run 1 eventlet redis: load" in output
    assert "run 1 eventlet imflask: load" in output
    assert "10/10 delivered" in output
    assert "| imflask / relay + HSET/EXPIRE (b) | eventlet |" in output


@needs_node
def test_relay_rate_gevent_tiny(redis_url):
    output = run_benchmark(
        redis_url, "relay", "--pairs", "2", "--rate", "100", "--duration", "0.2",
        "--runs", "1", "--servers", "bare,imflask", "--async-modes", "gevent",
    )

    assert "run 1 gevent imflask: load" in output
    assert "20/20 delivered" in output
    assert "| imflask / bare relay (a) | gevent |" in output


def test_allocation_ten_agents(redis_url):
    output = run_benchmark(redis_url, "allocation", "--agents", "10", "--pairs", "20", "--runs", "1")

    assert "10 agents: seeded" in output
    assert "| 10 |" in output


def test_history_twenty_messages(redis_url):
    output = run_benchmark(redis_url, "history", "--messages", "20", "--reads", "3", "--runs", "1")

    assert "| read all messages (limit 1000) |" in output
    assert "| store, with client_msg_id |" in output


@needs_node
def test_connections_twenty(redis_url):
    output = run_benchmark(redis_url, "connections", "--counts", "20", "--runs", "1", "--settle", "0.2")

    assert "run 1 bare: load" in output
    assert "| imflask | 20 |" in output


@needs_node
def test_python_generator_tiny(redis_url):
    output = run_benchmark(redis_url, "python_generator", "--pairs", "2", "--messages", "5", "--window", "2", "--runs", "1")

    assert "| python-socketio AsyncClient |" in output
    assert "| Node.js socket.io-client |" in output


def test_profile_breakdown_parts(tmp_path):
    profile = tmp_path / "profile.txt"
    profile.write_text(
        "main (wsgi.py:1);ChatService._conversation_with (service.py:2) 2\n"
        "main (wsgi.py:1);CommandBatcher._write_batches (autopipeline.py:3) 1\n"
        "main (wsgi.py:1);RequestContext.push (ctx.py:3) 1\n"
        " 1\n",
        encoding="utf-8",
    )
    completed = subprocess.run(
        [sys.executable, "-m", "bench.profile_breakdown", str(profile), "--us-per-message", "500"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
    )

    assert completed.returncode == 0, completed.stderr
    assert "| conversation check: submit an HGET, wait for its batch | 40% | 200 |" in completed.stdout
    assert "| Redis batch writer: pack, send, parse, wake callers | 20% | 100 |" in completed.stdout
    assert "| Flask request context per event | 20% | 100 |" in completed.stdout
    assert "| no Python frame (greenlet switches, GC, native code) | 20% | 100 |" in completed.stdout
