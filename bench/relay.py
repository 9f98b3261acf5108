"""Relay benchmark: imflask beside the bare relay (a) and the relay with one Redis write (b).

Each run starts one server on a loopback port, then the Node.js generator
bench/relay_client.js connects N agents and N customers over WebSocket.
Against imflask every customer sends ``consult`` first and is assigned its
own agent, so each pair is one conversation. Then the measured phase:

- window mode (default): each pair exchanges ``--messages`` messages,
  alternately in each direction, with at most ``--window`` of them
  unacknowledged;
- rate mode (``--rate R``): R messages per second offered in total, round
  robin over the pairs, for ``--duration`` seconds.

Figures per run: delivered messages per second (messages received at the
peer over the time from the first send to the last receipt or ack),
latency from send to receipt at the peer (p50, p95, p99), CPU time per
message of the server and of the Redis server (from /proc/<pid>/stat before
and after the phase), and the generator's own CPU use. Servers are run
round robin within each repetition, so a busy period of the machine hits
all of them. The first table gives the median of the runs. The ratios are
computed within each repetition, imflask over the baseline of the same
repetition, and the table gives their median.

imflask runs ``python wsgi.py`` with its own key prefix, a rate limit of a
million events per second, and the default plugin set. The keys of every
run are deleted afterwards.

Examples, from the repository root::

    .venv/bin/python -m bench.relay --pairs 50 --messages 200 --window 10
    .venv/bin/python -m bench.relay --pairs 50 --rate 2000 --duration 5
    .venv/bin/python -m bench.relay --async-modes eventlet,gevent
    .venv/bin/python -m bench.relay --servers redis,imflask --runs 1 --py-spy /tmp/relay-profiles

With ``--py-spy DIR`` the servers are sampled by py-spy during the
measured phase; ``python -m bench.profile_breakdown`` sorts a profile
into the parts of a relayed message.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

import redis

from bench.common import (
    DEFAULT_REDIS_URL,
    NodeGenerator,
    client_auth,
    cpu_seconds,
    delete_prefix,
    load_average,
    machine_description,
    make_server,
    markdown_table,
    median,
    node_available,
    redis_server_pid,
    save_results,
)

SERVER_KINDS = ("bare", "redis", "imflask")
SERVER_NAMES = {"bare": "bare relay (a)", "redis": "relay + HSET/EXPIRE (b)", "imflask": "imflask"}
UNLIMITED_RATE = 1000000


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=50, help="customer-agent pairs (default 50)")
    parser.add_argument("--messages", type=int, default=200, help="messages per pair in window mode (default 200)")
    parser.add_argument("--window", type=int, default=10, help="unacknowledged messages per pair at most (default 10)")
    parser.add_argument("--rate", type=float, help="offered messages per second in total: selects rate mode")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of sending in rate mode (default 5)")
    parser.add_argument("--body-bytes", type=int, default=100, help="message body size in bytes (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of every server (default 3)")
    parser.add_argument(
        "--servers", default=",".join(SERVER_KINDS), help="comma-separated: bare, redis, imflask (default all)"
    )
    parser.add_argument(
        "--async-modes", default="eventlet", help="comma-separated: eventlet, gevent (default eventlet)"
    )
    parser.add_argument("--capacity", type=int, default=10, help="capacity claim of every agent token (default 10)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis server (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one measured phase may take at most")
    parser.add_argument("--json", metavar="PATH", help="also write every run's raw figures to PATH")
    parser.add_argument("--keep-logs", action="store_true", help="keep every server log and print its path")
    parser.add_argument(
        "--py-spy",
        metavar="DIR",
        help="sample each server with py-spy during the measured phase and write DIR/<mode>-<server>-<run>.txt",
    )
    options = parser.parse_args(argv)

    options.server_kinds = _split(options.servers, SERVER_KINDS, "--servers")
    options.modes = _split(options.async_modes, ("eventlet", "gevent"), "--async-modes")
    if options.pairs < 1 or options.messages < 1 or options.window < 1 or options.runs < 1:
        parser.error("--pairs, --messages, --window and --runs must be at least 1")
    if options.body_bytes < 16:
        parser.error("--body-bytes must be at least 16, room for the message id")
    if options.rate is not None and (options.rate <= 0 or options.duration <= 0):
        parser.error("--rate and --duration must be positive")
    return options


def _split(value, allowed, flag):
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise SystemExit(f"{flag}: expected names from {', '.join(allowed)}, got {value!r}")
    return names


def generator_config(server, options):
    """Return the configuration line of bench/relay_client.js for ``server``."""
    agents, customers = [], []
    for index in range(options.pairs):
        agent, customer = f"agent-{index}", f"customer-{index}"
        agents.append({"uid": agent, "auth": client_auth(server, agent, "agent", capacity=options.capacity)})
        customers.append({"uid": customer, "auth": client_auth(server, customer, "customer"), "agent": agent})

    return {
        "url": server.url,
        "agents": agents,
        "customers": customers,
        "consult": server.kind == "imflask",
        "mode": "rate" if options.rate else "window",
        "messages": options.messages,
        "window": options.window,
        "rate": options.rate,
        "duration": options.duration,
        "body_bytes": options.body_bytes,
        "connect_concurrency": 50,
        "settle_ms": 500,
        "timeout_s": options.timeout,
    }


def run_once(kind, async_mode, options, redis_client, redis_pid, profile_path=None):
    """Start a server of ``kind``, run the generator's measured phase once, return the figures.

    With ``profile_path``, py-spy samples the server during the measured
    phase and writes its collapsed stacks there.
    """
    server = make_server(
        kind,
        redis_url=options.redis_url,
        async_mode=async_mode,
        imflask_settings={"RATE_LIMIT_PER_SECOND": UNLIMITED_RATE, "RATE_LIMIT_BURST": UNLIMITED_RATE},
    )
    try:
        with server:
            with NodeGenerator("relay_client.js", generator_config(server, options)) as generator:
                generator.receive()
                profiler = start_profiler(server.pid, profile_path) if profile_path else None
                load = load_average()
                server_before = cpu_seconds(server.pid)
                redis_before = cpu_seconds(redis_pid) if redis_pid else None

                generator.send("go")
                result = generator.receive()

                server_cpu = cpu_seconds(server.pid) - server_before
                redis_cpu = cpu_seconds(redis_pid) - redis_before if redis_pid else None
                if profiler:
                    stop_profiler(profiler)
    except Exception:
        print(f"{kind} server log ({server.log_file.name}):\n{server.log()[-4000:]}", file=sys.stderr)
        raise
    finally:
        if server.prefix:
            delete_prefix(redis_client, server.prefix)

    record = figures(kind, async_mode, load, result, server_cpu, redis_cpu)
    if record["complete"] and not options.keep_logs:
        server.remove_log()
    else:
        record["server_log"] = server.log_file.name
    return record


def start_profiler(pid, path):
    """Start py-spy sampling process ``pid`` 250 times a second, without pausing it."""
    py_spy = os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(py_spy):
        raise SystemExit(f"--py-spy needs {py_spy}: pip install py-spy into the virtualenv")
    command = [py_spy, "record", "--pid", str(pid), "--rate", "250", "--nonblocking", "--format", "raw", "-o", path]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # py-spy needs a moment to attach before the phase starts.
    if profiler.poll() is not None:
        raise RuntimeError(f"py-spy could not sample pid {pid}: {profiler.stderr.read()}")
    return profiler


def stop_profiler(profiler):
    """Stop py-spy with SIGINT, on which it writes its output file."""
    profiler.send_signal(signal.SIGINT)
    profiler.wait(timeout=60)


def figures(kind, async_mode, load, result, server_cpu, redis_cpu):
    """Return the per-run record from the generator's result and the CPU readings."""
    delivered = result["received"]
    elapsed = result["elapsed_s"]
    per_message = (lambda seconds: seconds / delivered * 1e6) if delivered else (lambda seconds: None)
    return {
        "server": kind,
        "async_mode": async_mode,
        "load_average": load,
        "complete": not result["timed_out"] and result["errors"] == 0 and delivered == result["expected"],
        "expected": result["expected"],
        "delivered": delivered,
        "errors": result["errors"],
        "first_error": result["first_error"],
        "delivered_per_s": result["delivered_per_s"],
        "latency_ms": result["latency_ms"],
        "ack_latency_ms": result["ack_latency_ms"],
        "send_lag_ms": result["send_lag_ms"],
        "slowest": result["slowest"],
        "server_cpu_us_per_msg": per_message(server_cpu),
        "server_cpu_percent": server_cpu / elapsed * 100 if elapsed else None,
        "redis_cpu_us_per_msg": per_message(redis_cpu) if redis_cpu is not None else None,
        "generator_cpu_us_per_msg": per_message(result["generator_cpu_s"]),
        "generator_cpu_percent": result["generator_cpu_s"] / elapsed * 100 if elapsed else None,
    }


def summarize(records, options):
    """Return the Markdown tables of medians and ratios for ``records``."""
    rows, medians = [], {}
    for mode in options.modes:
        for kind in options.server_kinds:
            runs = [record for record in records if record["server"] == kind and record["async_mode"] == mode]
            summary = {
                "delivered_per_s": median(run["delivered_per_s"] for run in runs),
                "p50": median(run["latency_ms"]["p50"] for run in runs),
                "p95": median(run["latency_ms"]["p95"] for run in runs),
                "p99": median(run["latency_ms"]["p99"] for run in runs),
                "server_us": median(run["server_cpu_us_per_msg"] for run in runs),
                "redis_us": median(run["redis_cpu_us_per_msg"] for run in runs),
                "generator_percent": median(run["generator_cpu_percent"] for run in runs),
            }
            medians[mode, kind] = summary
            rows.append(
                [
                    SERVER_NAMES[kind], mode, summary["delivered_per_s"], summary["p50"], summary["p95"],
                    summary["p99"], summary["server_us"], summary["redis_us"], summary["generator_percent"],
                ]
            )

    headers = [
        "server", "async mode", "delivered msg/s", "p50 ms", "p95 ms", "p99 ms",
        "server CPU µs/msg", "Redis CPU µs/msg", "generator CPU %",
    ]
    tables = [markdown_table(headers, rows)]

    ratio_rows = []
    for mode in options.modes:
        for kind in ("bare", "redis"):
            if "imflask" not in options.server_kinds or kind not in options.server_kinds:
                continue
            paired = _paired_runs(records, mode, kind)
            ratio_rows.append(
                [
                    f"imflask / {SERVER_NAMES[kind]}", mode,
                    median(_ratio(mine["delivered_per_s"], base["delivered_per_s"]) for mine, base in paired),
                    median(_ratio(mine["latency_ms"]["p50"], base["latency_ms"]["p50"]) for mine, base in paired),
                    median(_ratio(mine["latency_ms"]["p99"], base["latency_ms"]["p99"]) for mine, base in paired),
                    median(_ratio(mine["server_cpu_us_per_msg"], base["server_cpu_us_per_msg"]) for mine, base in paired),
                ]
            )
    if ratio_rows:
        tables.append(
            markdown_table(["ratio", "async mode", "throughput", "p50", "p99", "server CPU per msg"], ratio_rows)
        )
    return "\n\n".join(tables)


def _lag_text(record):
    """Return how late the generator sent in rate mode: a large lag means the machine was busy."""
    lag = record["send_lag_ms"]
    return f", send lag p99 {lag['p99']:.1f} ms" if lag else ""


def _paired_runs(records, mode, kind):
    """Return (imflask record, baseline record) pairs from the same repetition."""
    baseline = {record["run"]: record for record in records if record["server"] == kind and record["async_mode"] == mode}
    return [
        (record, baseline[record["run"]])
        for record in records
        if record["server"] == "imflask" and record["async_mode"] == mode and record["run"] in baseline
    ]


def _ratio(value, baseline):
    if value is None or not baseline:
        return None
    return value / baseline


def main(argv=None):
    options = parse_arguments(argv)
    missing = node_available()
    if missing:
        raise SystemExit(f"cannot run the Node.js load generator: {missing}")

    machine = machine_description()
    redis_client = redis.Redis.from_url(options.redis_url)
    redis_pid = redis_server_pid(redis_client)
    mode_text = f"rate {options.rate:g} msg/s for {options.duration:g} s" if options.rate else (
        f"{options.messages} messages per pair, window {options.window}"
    )
    print(f"relay: {options.pairs} pairs, {mode_text}, {options.body_bytes}-byte bodies, {options.runs} runs")
    print(f"machine: {json.dumps(machine)}", flush=True)

    records = []
    for repetition in range(1, options.runs + 1):
        for mode in options.modes:
            for kind in options.server_kinds:
                profile_path = None
                if options.py_spy:
                    os.makedirs(options.py_spy, exist_ok=True)
                    profile_path = os.path.join(options.py_spy, f"{mode}-{kind}-{repetition}.txt")
                record = run_once(kind, mode, options, redis_client, redis_pid, profile_path)
                record["run"] = repetition
                records.append(record)
                print(
                    f"run {repetition} {mode} {kind}: load {record['load_average'][0]}, "
                    f"{record['delivered']}/{record['expected']} delivered, {record['delivered_per_s']:.0f} msg/s, "
                    f"p50 {record['latency_ms']['p50']:.2f} ms, p99 {record['latency_ms']['p99']:.2f} ms, "
                    f"server {record['server_cpu_us_per_msg'] or 0:.0f} µs/msg, "
                    f"generator {record['generator_cpu_percent']:.0f}% CPU{_lag_text(record)}",
                    flush=True,
                )
                if options.keep_logs:
                    print(f"  server log: {record['server_log']}", flush=True)

    print()
    print(summarize(records, options))
    save_results(options.json, options, machine, runs=records)

    incomplete = [record for record in records if not record["complete"]]
    for record in incomplete:
        print(
            f"incomplete run {record['run']} {record['async_mode']} {record['server']}: "
            f"{record['delivered']}/{record['expected']} delivered, {record['errors']} error acks, "
            f"first error {record['first_error']}; server log {record['server_log']}",
            file=sys.stderr,
        )
    return 1 if incomplete else 0


if __name__ == "__main__":
    sys.exit(main())
