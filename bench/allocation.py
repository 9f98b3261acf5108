"""Allocation benchmark: consult + close pairs per second through the tier strategy.

For each agent count, the script brings that many agents online with
``TierStrategy.agent_online`` (capacity 3) under a key prefix of its own,
then times ``--pairs`` consult + close pairs of new customers. Every agent
stays in tier 0 or 1, so each pair costs the same at any count. Beside it,
from the same redis-py client, it times 2 x ``--pairs`` EVALSHA round trips
of a script that only returns 1, in chunks that alternate with chunks of
``--chunk`` pairs, and the same consult + close pairs on the plain-Python
``TierModel`` with the same agents. Each measure is repeated ``--runs``
times, and the tables give the medians. The keys are deleted at the end,
also after a failure.

A consult + close pair is two EVALSHA round trips, so the ratio to the
trivial EVALSHA rate is given per operation: 2 x pairs/s divided by
EVALSHA/s. It is computed within each run, and the table gives the median,
because the speed of a shared machine drifts between runs. A ratio of 1.0
would mean that the scripts' own work costs nothing. Client CPU (this process) and Redis CPU
(/proc/<pid>/stat of a local Redis) are given per operation.

Run from the repository root::

    .venv/bin/python -m bench.allocation --agents 10,1000,100000
"""

import argparse
import json
import sys
import time

import redis

from bench.common import (
    DEFAULT_REDIS_URL,
    cpu_seconds,
    delete_prefix,
    load_average,
    machine_description,
    markdown_table,
    median,
    redis_server_pid,
    save_results,
    unique_prefix,
)
from plugins.tier import TierStrategy
from plugins.tier.model import TierModel

AGENT_CAPACITY = 3
WARM_UP_CALLS = 200


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--agents", default="10,1000,100000", help="comma-separated agent counts (default 10,1000,100000)"
    )
    parser.add_argument("--pairs", type=int, default=2000, help="consult + close pairs per run (default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of every measure (default 3)")
    parser.add_argument(
        "--chunk", type=int, default=50, help="pairs per chunk, alternating with trivial calls (default 50)"
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis server (default %(default)s)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures to PATH")
    options = parser.parse_args(argv)
    try:
        options.agent_counts = [int(count) for count in options.agents.split(",")]
    except ValueError:
        parser.error(f"--agents: expected comma-separated integers, got {options.agents!r}")
    if min(options.agent_counts) < 1 or min(options.pairs, options.runs, options.chunk) < 1:
        parser.error("--agents, --pairs, --runs and --chunk must be at least 1")
    return options


def seed(allocator, agents, now):
    """Bring ``agents`` agents online; return the seconds it took."""
    started = time.perf_counter()
    for index in range(agents):
        allocator.agent_online(f"agent-{index}", capacity=AGENT_CAPACITY, now=now)
    return time.perf_counter() - started


class Timing:
    """Wall time, client CPU and Redis CPU of a block of ``operations`` operations.

    Timings of several blocks add up with ``+``, so interleaved blocks of
    two kinds can be compared as two totals.
    """

    def __init__(self, operations, redis_pid=None):
        self.operations = operations
        self.redis_pid = redis_pid
        self.seconds = 0.0
        self.client_cpu_s = 0.0
        self.redis_cpu_s = 0.0 if redis_pid else None

    def __enter__(self):
        self.redis_before = cpu_seconds(self.redis_pid) if self.redis_pid else None
        self.cpu_before = time.process_time()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc_info):
        self.seconds = time.perf_counter() - self.started
        self.client_cpu_s = time.process_time() - self.cpu_before
        if self.redis_pid:
            self.redis_cpu_s = cpu_seconds(self.redis_pid) - self.redis_before

    def __add__(self, other):
        total = Timing(self.operations + other.operations, self.redis_pid)
        total.seconds = self.seconds + other.seconds
        total.client_cpu_s = self.client_cpu_s + other.client_cpu_s
        if self.redis_pid:
            total.redis_cpu_s = self.redis_cpu_s + other.redis_cpu_s
        return total

    @property
    def client_cpu_us(self):
        return self.client_cpu_s / self.operations * 1e6

    @property
    def redis_cpu_us(self):
        return None if self.redis_cpu_s is None else self.redis_cpu_s / self.operations * 1e6


def time_pairs(allocator, pairs, run, now, redis_pid=None):
    """Return the Timing of ``pairs`` consult + close pairs of new customers: 2 operations each."""
    customers = [f"customer-{run}-{index}" for index in range(pairs)]
    with Timing(2 * pairs, redis_pid) as timing:
        for customer in customers:
            result = allocator.consult(customer, now=now)
            if result.status != "assigned":
                raise RuntimeError(f"consult of {customer} was not assigned: {result}")
            allocator.close(customer, now=now)
    return timing


def time_trivial_script(script, calls, redis_pid=None):
    """Return the Timing of ``calls`` EVALSHA round trips of a script that returns 1."""
    with Timing(calls, redis_pid) as timing:
        for _ in range(calls):
            script()
    return timing


def time_interleaved(strategy, trivial, options, run, now, redis_pid):
    """Return the Timings (trivial EVALSHA, strategy pairs) of one run, measured in alternating chunks.

    Each chunk of ``--chunk`` pairs follows its own chunk of 2 x as many
    trivial calls, so both see the same machine. On this VM a round trip
    cost about twice as much while the client and Redis ran on different
    cores, and the placement changed within seconds.
    """
    evalsha = Timing(0, redis_pid)
    pairs = Timing(0, redis_pid)
    for start in range(0, options.pairs, options.chunk):
        size = min(options.chunk, options.pairs - start)
        evalsha += time_trivial_script(trivial, 2 * size, redis_pid)
        pairs += time_pairs(strategy, size, f"{run}-{start}", now, redis_pid)
    return evalsha, pairs


def measure(client, redis_pid, agents, options):
    """Return the figures of one agent count, with the strategy and the model."""
    prefix = unique_prefix("alloc")
    now = time.time()
    trivial = client.register_script("return 1")
    record = {"agents": agents, "load_average": load_average(), "runs": []}
    try:
        strategy = TierStrategy(client, prefix=prefix)
        record["seed_s"] = seed(strategy, agents, now)
        model = TierModel()
        record["model_seed_s"] = seed(model, agents, now)

        # Untimed warm-up: Redis loads the scripts and the client opens its connection.
        time_trivial_script(trivial, WARM_UP_CALLS)
        time_pairs(strategy, WARM_UP_CALLS, "warm-up", now)
        time_pairs(model, WARM_UP_CALLS, "warm-up", now)

        for run in range(options.runs):
            evalsha, pairs = time_interleaved(strategy, trivial, options, run, now, redis_pid)
            model_pairs = time_pairs(model, options.pairs, run, now)
            record["runs"].append(
                {
                    "strategy_pairs_per_s": options.pairs / pairs.seconds,
                    "strategy_client_cpu_us_per_op": pairs.client_cpu_us,
                    "strategy_redis_cpu_us_per_op": pairs.redis_cpu_us,
                    "evalsha_per_s": evalsha.operations / evalsha.seconds,
                    "evalsha_client_cpu_us": evalsha.client_cpu_us,
                    "evalsha_redis_cpu_us": evalsha.redis_cpu_us,
                    "model_pairs_per_s": options.pairs / model_pairs.seconds,
                    "ops_per_evalsha": (evalsha.seconds / evalsha.operations) / (pairs.seconds / pairs.operations),
                }
            )
    finally:
        delete_prefix(client, prefix)
    return record


def median_of(record, field):
    """Return the median of ``field`` over the runs of ``record``."""
    return median(run[field] for run in record["runs"])


def summarize(records):
    rows = []
    first = records[0]
    for record in records:
        pairs = median_of(record, "strategy_pairs_per_s")
        evalsha = median_of(record, "evalsha_per_s")
        model = median_of(record, "model_pairs_per_s")
        rows.append(
            [
                record["agents"],
                pairs,
                evalsha,
                median_of(record, "ops_per_evalsha"),
                median_of(first, "strategy_pairs_per_s") / pairs,
                1e6 / (2 * pairs),
                median_of(record, "strategy_client_cpu_us_per_op"),
                median_of(record, "strategy_redis_cpu_us_per_op"),
                1e6 / evalsha,
                median_of(record, "evalsha_client_cpu_us"),
                median_of(record, "evalsha_redis_cpu_us"),
                model,
                median_of(first, "model_pairs_per_s") / model,
            ]
        )
    headers = [
        "agents", "strategy pairs/s", "trivial EVALSHA/s", "ops/s ÷ EVALSHA/s", "slowdown vs first count",
        "µs/op", "client CPU µs/op", "Redis CPU µs/op", "µs/EVALSHA", "client CPU µs/EVALSHA",
        "Redis CPU µs/EVALSHA", "model pairs/s", "model slowdown",
    ]
    return markdown_table(headers, rows)


def main(argv=None):
    options = parse_arguments(argv)
    machine = machine_description()
    print(f"allocation: {options.pairs} consult + close pairs, {options.runs} runs, agents {options.agent_counts}")
    print(f"machine: {json.dumps(machine)}", flush=True)

    client = redis.Redis.from_url(options.redis_url, decode_responses=True)
    redis_pid = redis_server_pid(client)
    records = []
    for agents in options.agent_counts:
        record = measure(client, redis_pid, agents, options)
        records.append(record)
        print(
            f"{agents} agents: seeded in {record['seed_s']:.1f} s ({agents / record['seed_s']:.0f} agent_online/s), "
            f"load {record['load_average'][0]}, strategy {median_of(record, 'strategy_pairs_per_s'):.0f} pairs/s, "
            f"EVALSHA {median_of(record, 'evalsha_per_s'):.0f}/s, "
            f"model {median_of(record, 'model_pairs_per_s'):.0f} pairs/s",
            flush=True,
        )

    print()
    print(summarize(records))
    save_results(options.json, options, machine, records=records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
