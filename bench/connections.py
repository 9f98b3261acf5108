"""Connections benchmark: server RSS per idle authenticated connection, imflask beside the bare relay.

Each run starts one server on a loopback port, and the Node.js script
bench/idle_client.js opens WebSocket connections to it: imflask's with a
customer token each (a distinct uid per connection, no consult), the bare
relay's with ``auth: {"uid"}``. After 10 warm-up connections and a pause,
the server's RSS (VmRSS in /proc/<pid>/status) is the base. Then the
connections are raised to each of ``--counts`` in turn, and after a pause
the RSS is read again. Per connection is (RSS - base) / (count - 10). Both
servers accept 10,000 connections, past eventlet's default of 1,024. The
tables give the medians of ``--runs`` runs, the servers run round robin.

The script raises its soft limit of open files to the hard limit, and the
server and the generator inherit it. 5,000 connections need more than
5,000 descriptors in each, so if the hard limit is lower, run it as
``bash -c 'ulimit -n 20000 && .venv/bin/python -m bench.connections'``.

Run from the repository root::

    .venv/bin/python -m bench.connections --counts 1000,5000
"""

import argparse
import json
import resource
import sys
import time

import redis

from bench.common import (
    DEFAULT_REDIS_URL,
    NodeGenerator,
    client_auth,
    delete_prefix,
    load_average,
    machine_description,
    make_server,
    markdown_table,
    median,
    node_available,
    rss_bytes,
    save_results,
)

WARM_UP = 10
SERVER_KINDS = ("bare", "imflask")


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="1000,5000", help="comma-separated connection counts (default 1000,5000)")
    parser.add_argument("--servers", default="bare,imflask", help="comma-separated: bare, imflask (default both)")
    parser.add_argument(
        "--async-mode", choices=("eventlet", "gevent"), default="eventlet", help="cooperative server (default eventlet)"
    )
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait before each RSS reading (default 3)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis server (default %(default)s)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures to PATH")
    options = parser.parse_args(argv)
    try:
        options.connection_counts = sorted(int(count) for count in options.counts.split(","))
    except ValueError:
        parser.error(f"--counts: expected comma-separated integers, got {options.counts!r}")
    if options.connection_counts[0] <= WARM_UP:
        parser.error(f"--counts must be above the {WARM_UP} warm-up connections")
    options.server_kinds = [name.strip() for name in options.servers.split(",") if name.strip()]
    if not options.server_kinds or set(options.server_kinds) - set(SERVER_KINDS):
        parser.error(f"--servers: expected names from {', '.join(SERVER_KINDS)}, got {options.servers!r}")
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    return options


def raise_open_file_limit(needed):
    """Raise the soft limit of open files to the hard limit; fail early when even that is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit(
            f"the hard limit of open files is {hard}, below the {needed} needed: "
            f"run `ulimit -n {needed}` as root first"
        )
    if soft != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def connect_to(generator, count):
    """Raise the open connections to ``count``; raise unless every one is open and none dropped."""
    generator.send({"connect": count})
    reply = generator.receive()
    if reply["open"] != count or reply["dropped"]:
        raise RuntimeError(
            f"expected {count} open connections, got {reply['open']} "
            f"({reply['failed']} failed, first: {reply['first_failure']}; {reply['dropped']} dropped)"
        )
    return reply["seconds"]


def run_once(kind, options, redis_client):
    """Return the server's RSS per idle connection at each count, for one server of ``kind``."""
    server = make_server(kind, redis_url=options.redis_url, async_mode=options.async_mode)
    largest = options.connection_counts[-1]
    record = {"server": kind, "load_average": load_average(), "per_connection": {}, "rss": {}}
    try:
        with server:
            auths = [client_auth(server, f"customer-{index}", "customer") for index in range(largest)]
            config = {"url": server.url, "auths": auths, "concurrency": 100}
            with NodeGenerator("idle_client.js", config) as generator:
                connect_to(generator, WARM_UP)
                time.sleep(options.settle)
                base = rss_bytes(server.pid)
                record["rss"][WARM_UP] = base
                for count in options.connection_counts:
                    record.setdefault("connect_seconds", {})[count] = connect_to(generator, count)
                    time.sleep(options.settle)
                    rss = rss_bytes(server.pid)
                    record["rss"][count] = rss
                    record["per_connection"][count] = (rss - base) / (count - WARM_UP)
    except Exception:
        print(f"{kind} server log ({server.log_file.name}):\n{server.log()[-4000:]}", file=sys.stderr)
        raise
    finally:
        if server.prefix:
            delete_prefix(redis_client, server.prefix)
    server.remove_log()
    return record


def summarize(records, options):
    rows = []
    for count in options.connection_counts:
        per_kind, totals = {}, {}
        for kind in options.server_kinds:
            runs = [record for record in records if record["server"] == kind]
            per_kind[kind] = median(record["per_connection"][count] for record in runs) / 1024
            totals[kind] = median(record["rss"][count] for record in runs) / 1024 / 1024
        for kind in options.server_kinds:
            ratio = per_kind[kind] / per_kind["bare"] if "bare" in per_kind else None
            rows.append([kind, count, totals[kind], per_kind[kind], ratio])
    return markdown_table(["server", "connections", "server RSS MiB", "KiB per connection", "ratio to bare"], rows)


def main(argv=None):
    options = parse_arguments(argv)
    missing = node_available()
    if missing:
        raise SystemExit(f"cannot run the Node.js client: {missing}")
    raise_open_file_limit(options.connection_counts[-1] + 1000)

    machine = machine_description()
    print(f"connections: {options.connection_counts} idle connections, {options.async_mode}, {options.runs} runs")
    print(f"machine: {json.dumps(machine)}", flush=True)

    redis_client = redis.Redis.from_url(options.redis_url)
    records = []
    for run in range(1, options.runs + 1):
        for kind in options.server_kinds:
            record = run_once(kind, options, redis_client)
            record["run"] = run
            records.append(record)
            readings = ", ".join(
                f"{count}: {record['per_connection'][count] / 1024:.1f} KiB" for count in options.connection_counts
            )
            print(f"run {run} {kind}: load {record['load_average'][0]}, per connection {readings}", flush=True)

    print()
    print(summarize(records, options))
    save_results(options.json, options, machine, runs=records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
