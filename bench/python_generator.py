"""Check whether a Python load generator could drive bench.relay: its CPU per message.

Runs the window-mode relay load of bench.relay (pairs exchange messages
alternately in each direction, at most ``--window`` unacknowledged per
pair) against the bare relay (a), with python-socketio's asyncio client
on aiohttp in this process instead of the Node.js generator. It prints the
delivered messages per second and this process's own CPU time per
message next to the same figures of the Node.js generator in the same
run. A generator that needs most of a core per message stream saturates
before the server does, which is why bench.relay uses the Node.js one.

Run from the repository root::

    .venv/bin/python -m bench.python_generator --pairs 50 --messages 200 --window 10
"""

import argparse
import asyncio
import sys
import time

import socketio

from bench.common import machine_description, make_server, median, node_available
from bench.relay import parse_arguments as relay_arguments
from bench.relay import run_once


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=50, help="customer-agent pairs (default 50)")
    parser.add_argument("--messages", type=int, default=200, help="messages per pair (default 200)")
    parser.add_argument("--window", type=int, default=10, help="unacknowledged messages per pair at most (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each generator (default 3)")
    options = parser.parse_args(argv)
    if min(options.pairs, options.messages, options.window, options.runs) < 1:
        parser.error("every option must be at least 1")
    return options


async def drive(url, options):
    """Run the window load once; return (delivered messages per second, CPU seconds of this process)."""
    sockets = {}
    for index in range(options.pairs):
        for uid in (f"agent-{index}", f"customer-{index}"):
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(url, auth={"uid": uid}, transports=["websocket"], wait_timeout=20)
            sockets[uid] = client

    total = options.pairs * options.messages
    received = 0
    everything_received = asyncio.Event()

    def on_message(data):
        nonlocal received
        received += 1
        if received == total:
            everything_received.set()

    for client in sockets.values():
        client.on("message", on_message)

    async def pair_sender(index):
        customer, agent = f"customer-{index}", f"agent-{index}"
        window = asyncio.Semaphore(options.window)
        pending = []

        async def send(number):
            sender, recipient = (customer, agent) if number % 2 == 0 else (agent, customer)
            try:
                await sockets[sender].call("message", {"to": recipient, "body": "x" * 100}, timeout=60)
            finally:
                window.release()

        for number in range(options.messages):
            await window.acquire()
            pending.append(asyncio.ensure_future(send(number)))
        await asyncio.gather(*pending)

    cpu_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(pair_sender(index) for index in range(options.pairs)))
    await asyncio.wait_for(everything_received.wait(), timeout=120)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before

    for client in sockets.values():
        await client.disconnect()
    return total / elapsed, cpu


def main(argv=None):
    options = parse_arguments(argv)
    missing = node_available()
    if missing:
        raise SystemExit(f"cannot run the Node.js generator for comparison: {missing}")
    relay_options = relay_arguments(
        ["--pairs", str(options.pairs), "--messages", str(options.messages), "--window", str(options.window)]
    )
    total = options.pairs * options.messages
    print(f"machine: {machine_description()}", flush=True)

    python_rates, python_cpu, node_rates, node_cpu = [], [], [], []
    for run in range(1, options.runs + 1):
        with make_server("bare", redis_url=relay_options.redis_url) as server:
            rate, cpu = asyncio.run(drive(server.url, options))
        python_rates.append(rate)
        python_cpu.append(cpu / total * 1e6)
        print(f"run {run} python generator: {rate:.0f} msg/s, generator {cpu / total * 1e6:.0f} µs/msg", flush=True)

        record = run_once("bare", "eventlet", relay_options, None, None)
        node_rates.append(record["delivered_per_s"])
        node_cpu.append(record["generator_cpu_us_per_msg"])
        print(
            f"run {run} node generator: {record['delivered_per_s']:.0f} msg/s, "
            f"generator {record['generator_cpu_us_per_msg']:.0f} µs/msg",
            flush=True,
        )

    print()
    print("| generator | delivered msg/s | generator CPU µs/msg |")
    print("|---|---|---|")
    print(f"| python-socketio AsyncClient | {median(python_rates):,.0f} | {median(python_cpu):.0f} |")
    print(f"| Node.js socket.io-client | {median(node_rates):,.0f} | {median(node_cpu):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
