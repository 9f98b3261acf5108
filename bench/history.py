"""History benchmark: append and read latency of a pair with 1,000 messages, and Redis memory per message.

Each run writes ``--messages`` messages to a new customer-agent pair through
``RedisHistoryStore.append``, alternately from each side, with a
``client_msg_id`` as the widget sends, and times every append. Beside it,
from the same client, it stores the same JSON with one pipelined HSET +
EXPIRE per message (the store of the relay baseline (b)). It then times
``--reads`` reads of the whole pair (``read(limit=1000)``), of a protocol
page of 200 and of the default page of 50. Three baselines are timed beside
them: one raw HMGET of the store's fields without decoding, and an HMGET of
the baseline hash (whole JSON of M per field) followed by one ``json.loads``
per value or by one ``json.loads`` of all values joined into a JSON array.

Memory per message is ``MEMORY USAGE <pair hash> SAMPLES 0`` divided by the
number of messages, against the mean size of a message's JSON in UTF-8
bytes. It is given for the store with client ids (the hash then also keeps
the last client ids of each sender), for the store without them, and for
the baseline hash. The tables give the medians of ``--runs`` runs. Every
key is deleted at the end, also after a failure.

Run from the repository root::

    .venv/bin/python -m bench.history --messages 1000

redis-py parses replies with hiredis when the hiredis package is installed
(the project requires ``redis[hiredis]``) and in Python otherwise. The
first line of the output names the reply parser.
"""

import argparse
import json
import sys
import time

import redis

from bench.common import (
    DEFAULT_REDIS_URL,
    delete_prefix,
    load_average,
    machine_description,
    markdown_table,
    median,
    percentile,
    save_results,
    unique_prefix,
)
from plugins.redis_history import RedisHistoryStore

TTL = 30 * 24 * 3600


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000, help="messages in the pair, at most 1000 (default 1000)")
    parser.add_argument("--body-bytes", type=int, default=100, help="message body size in bytes (default 100)")
    parser.add_argument("--reads", type=int, default=50, help="timed reads of each kind per run (default 50)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis server (default %(default)s)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures to PATH")
    options = parser.parse_args(argv)
    if not 1 <= options.messages <= 1000:
        parser.error("--messages must be from 1 to 1000, the largest read the store allows")
    if options.body_bytes < 1 or options.reads < 1 or options.runs < 1:
        parser.error("--body-bytes, --reads and --runs must be at least 1")
    return options


def body(index, size):
    """Return an ASCII body of ``size`` bytes that starts with the message index."""
    text = f"message {index} "
    return (text + "x" * size)[:size]


def append_all(store, customer, agent, options, *, with_client_ids, now):
    """Append the pair's messages; return the latency of each append in ms and the stored JSON sizes."""
    latencies, sizes = [], []
    for index in range(options.messages):
        sender, recipient = (customer, agent) if index % 2 == 0 else (agent, customer)
        client_msg_id = f"{sender}-{index}" if with_client_ids else None
        started = time.perf_counter()
        stored = store.append(sender, recipient, body(index, options.body_bytes), now=now + index, client_msg_id=client_msg_id)
        latencies.append((time.perf_counter() - started) * 1000)
        sizes.append(len(json.dumps(stored.message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")))
    return latencies, sizes


def append_baseline(client, key, messages):
    """Store each JSON message with one pipelined HSET + EXPIRE; return the latency of each in ms."""
    latencies = []
    for message in messages:
        started = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        pipe.hset(key, f"m:{message['seq']}", json.dumps(message, ensure_ascii=False, separators=(",", ":")))
        pipe.expire(key, TTL)
        pipe.execute()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def time_calls(function, count):
    """Return the latency of ``count`` calls of ``function`` in ms."""
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        function()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def read_joined(client, key, fields):
    """Return the messages of ``fields`` with one HMGET and one json.loads over all of them."""
    values = client.hmget(key, fields)
    return json.loads("[" + ",".join(value for value in values if value is not None) + "]")


def read_each(client, key, fields):
    """Return the messages of ``fields`` with one HMGET and one json.loads per value."""
    return [json.loads(value) for value in client.hmget(key, fields) if value is not None]


def memory_per_message(client, key, count):
    return client.memory_usage(key, samples=0) / count


def run_once(client, run, options):
    """Return the figures of one run under a fresh prefix."""
    prefix = unique_prefix("history")
    store = RedisHistoryStore(client, prefix=prefix, ttl=TTL)
    customer, agent = f"customer-{run}", f"agent-{run}"
    now = time.time()
    record = {"run": run, "load_average": load_average()}
    try:
        append_ms, sizes = append_all(store, customer, agent, options, with_client_ids=True, now=now)
        stored = store.read(customer, agent, limit=options.messages)
        baseline_key = f"{prefix}:baseline"
        baseline_ms = append_baseline(client, baseline_key, stored)

        full_read = time_calls(lambda: store.read(customer, agent, limit=options.messages), options.reads)
        page_200 = time_calls(lambda: store.read(customer, agent, limit=min(200, options.messages)), options.reads)
        page_50 = time_calls(lambda: store.read(customer, agent, limit=min(50, options.messages)), options.reads)
        fields = [f"m:{seq}" for seq in range(1, options.messages + 1)]
        raw_read = time_calls(lambda: client.hmget(store.pair_key(customer, agent), fields), options.reads)
        each_read = time_calls(lambda: read_each(client, baseline_key, fields), options.reads)
        joined_read = time_calls(lambda: read_joined(client, baseline_key, fields), options.reads)

        plain_store = RedisHistoryStore(client, prefix=f"{prefix}:plain", ttl=TTL)
        _, plain_sizes = append_all(plain_store, customer, agent, options, with_client_ids=False, now=now)

        record.update(
            {
                "append_ms": _latency(append_ms),
                "baseline_append_ms": _latency(baseline_ms),
                "read_all_ms": _latency(full_read),
                "read_200_ms": _latency(page_200),
                "read_50_ms": _latency(page_50),
                "raw_hmget_ms": _latency(raw_read),
                "each_read_ms": _latency(each_read),
                "joined_read_ms": _latency(joined_read),
                "json_bytes_with_ids": sum(sizes) / len(sizes),
                "json_bytes_without_ids": sum(plain_sizes) / len(plain_sizes),
                "memory_with_ids": memory_per_message(client, store.pair_key(customer, agent), options.messages),
                "memory_without_ids": memory_per_message(
                    client, plain_store.pair_key(customer, agent), options.messages
                ),
                "memory_baseline": memory_per_message(client, baseline_key, options.messages),
                "hash_encoding": client.object("encoding", store.pair_key(customer, agent)),
            }
        )
    finally:
        delete_prefix(client, prefix)
    return record


def _latency(values):
    ordered = sorted(values)
    return {"p50": percentile(ordered, 0.5), "p95": percentile(ordered, 0.95), "p99": percentile(ordered, 0.99)}


def summarize(records):
    def latency_row(name, field, baseline_field=None):
        p50 = median(record[field]["p50"] for record in records)
        ratio = None
        if baseline_field:
            ratio = p50 / median(record[baseline_field]["p50"] for record in records)
        return [
            name,
            p50,
            median(record[field]["p95"] for record in records),
            median(record[field]["p99"] for record in records),
            ratio,
        ]

    latency_rows = [
        latency_row("append (store, with client_msg_id)", "append_ms", "baseline_append_ms"),
        latency_row("append baseline: pipelined HSET + EXPIRE", "baseline_append_ms"),
        latency_row("read all messages (limit 1000)", "read_all_ms", "raw_hmget_ms"),
        latency_row("read a page of 200", "read_200_ms"),
        latency_row("read a page of 50", "read_50_ms"),
        latency_row("read baseline: raw HMGET of every field", "raw_hmget_ms"),
        latency_row("baseline hash: HMGET + one json.loads per value", "each_read_ms", "raw_hmget_ms"),
        latency_row("baseline hash: HMGET + one json.loads of the joined values", "joined_read_ms", "raw_hmget_ms"),
    ]
    tables = [markdown_table(["operation", "p50 ms", "p95 ms", "p99 ms", "p50 ratio to baseline"], latency_rows)]

    memory_rows = []
    for name, field, json_field in (
        ("store, with client_msg_id", "memory_with_ids", "json_bytes_with_ids"),
        ("store, without client_msg_id", "memory_without_ids", "json_bytes_without_ids"),
        ("baseline hash (m:<seq> -> JSON only)", "memory_baseline", "json_bytes_with_ids"),
    ):
        per_message = median(record[field] for record in records)
        json_bytes = median(record[json_field] for record in records)
        memory_rows.append([name, per_message, json_bytes, per_message / json_bytes])
    tables.append(
        markdown_table(["hash", "Redis bytes per message", "JSON bytes per message", "ratio"], memory_rows)
    )
    return "\n\n".join(tables)


def main(argv=None):
    options = parse_arguments(argv)
    machine = machine_description()
    parser = "hiredis" if redis.utils.HIREDIS_AVAILABLE else "Python"
    print(
        f"history: {options.messages} messages of {options.body_bytes}-byte bodies, {options.runs} runs, "
        f"redis-py {redis.__version__} with the {parser} reply parser"
    )
    print(f"machine: {json.dumps(machine)}", flush=True)

    client = redis.Redis.from_url(options.redis_url, decode_responses=True)
    records = []
    for run in range(1, options.runs + 1):
        record = run_once(client, run, options)
        records.append(record)
        print(
            f"run {run}: load {record['load_average'][0]}, append p50 {record['append_ms']['p50']:.3f} ms, "
            f"read all p50 {record['read_all_ms']['p50']:.2f} ms, "
            f"{record['memory_with_ids']:.0f} B/message in a {record['hash_encoding']} hash",
            flush=True,
        )

    print()
    print(summarize(records))
    save_results(options.json, options, machine, records=records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
