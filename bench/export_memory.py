"""Peak memory of ``flask im export`` as the number of conversations grows.

Seeds conversations under a key prefix of its own on the Redis at
IMFLASK_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0), measures the
export at 1,000 and then 10,000 conversations, and deletes its keys at the
end, also after a failure. Two measures per size:

- the peak of Python allocations during the export loop (tracemalloc, in
  this process, writing JSON Lines to a temporary file);
- the peak resident set size of ``flask --app wsgi im export --output FILE``
  run as a child process, next to that of ``flask --app wsgi im plugins``,
  which loads the same application and exports nothing.

Run from the repository root: ``.venv/bin/python bench/export_memory.py``.
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid

import redis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from imflask.export import TimeWindow, iter_transcripts  # noqa: E402
from plugins.export_formats import JsonlWriter  # noqa: E402
from plugins.redis_history import RedisHistoryStore  # noqa: E402

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MESSAGES = (
    ("customer", "您好，我上周下的订单还没有收到，能帮我查一下物流吗？"),
    ("agent", "您好，请提供一下订单号，我这边帮您查询。"),
    ("customer", "订单号是 202412041380013800，买了两件外套。"),
    ("agent", "查到了，包裹昨天已经到达本市分拣中心，预计明天送达。"),
    ("customer", "好的，谢谢！"),
    ("agent", "不客气，还有其他问题随时联系我们。"),
)


def seed(store, first, count, start):
    """Store ``count`` closed conversations numbered from ``first``, each with its own customer."""
    for number in range(first, first + count):
        customer, agent = f"customer-{number}", f"agent-{number % 50}"
        began = start + number * 0.1
        conversation = {"id": str(number), "customer": customer, "agent": agent, "started_at": began}
        store.append_system(customer, agent, event="started", conversation=conversation, now=began)
        for offset, (role, body) in enumerate(MESSAGES, start=1):
            sender, recipient = (customer, agent) if role == "customer" else (agent, customer)
            store.append(sender, recipient, body, now=began + offset)
        store.append_system(customer, agent, event="closed", conversation=conversation, now=began + 30, reason="customer")


def traced_export(store, until):
    """Return (conversations written, peak traced bytes) of one export loop to a temporary file."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as stream:
        tracemalloc.start()
        writer = JsonlWriter(stream=stream)
        count = 0
        for transcript in iter_transcripts(store, TimeWindow(None, until), snapshot_time=until):
            writer.write(transcript)
            count += 1
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return count, peak


def child_peak_rss(arguments, env):
    """Run ``flask --app wsgi im ...`` and return its peak resident set size in KiB."""
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    process = subprocess.Popen([flask, "--app", "wsgi", "im", *arguments], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"flask im {' '.join(arguments)} failed with status {status}")
    return usage.ru_maxrss


def measure(store, env, total, until):
    conversations, traced = traced_export(store, until)
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, "out.jsonl")
        began = time.perf_counter()
        export_rss = child_peak_rss(["export", "--output", output], env)
        seconds = time.perf_counter() - began
        with open(output, encoding="utf-8") as handle:
            lines = sum(1 for _ in handle)
    baseline_rss = child_peak_rss(["plugins"], env)
    print(
        f"{total:>6} conversations: in-process export wrote {conversations}, traced peak {traced / 1024:.0f} KiB; "
        f"flask im export wrote {lines} in {seconds:.1f} s, peak RSS {export_rss / 1024:.1f} MiB; "
        f"flask im plugins peak RSS {baseline_rss / 1024:.1f} MiB"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default=os.environ.get("IMFLASK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--sizes", default="1000,10000", help="Comma-separated conversation counts, ascending.")
    options = parser.parse_args()

    client = redis.Redis.from_url(options.redis_url, decode_responses=True)
    prefix = f"imbench-export-{uuid.uuid4().hex[:8]}"
    store = RedisHistoryStore(client, prefix=prefix, ttl=86400)
    env = dict(os.environ, SECRET_KEY="benchmark-secret-key-long-enough-for-hs256",
               IMFLASK_REDIS_URL=options.redis_url, IMFLASK_REDIS_PREFIX=prefix)
    start = time.time() - 3600

    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"redis {client.info('server')['redis_version']}, prefix {prefix}")
    seeded = 0
    try:
        for size in (int(value) for value in options.sizes.split(",")):
            began = time.perf_counter()
            seed(store, seeded, size - seeded, start)
            seeded = size
            print(f"seeded {size} conversations in {time.perf_counter() - began:.1f} s")
            measure(store, env, size, time.time() + 60)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for index in range(0, len(keys), 1000):
            client.delete(*keys[index:index + 1000])
        print(f"deleted {len(keys)} keys under {prefix}")


if __name__ == "__main__":
    main()
