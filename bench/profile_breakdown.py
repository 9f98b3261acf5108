"""Sort a py-spy profile of a relay server into the parts of one relayed message.

Reads the collapsed stacks that ``bench.relay --py-spy DIR`` writes (py-spy
``--format raw``: one stack per line, frames separated by ``;``, then a
sample count). Each sample goes to the first part in PARTS that has one of
its frames anywhere in the stack, so the more specific parts come first.
With ``--us-per-message``, the server CPU per message that bench.relay
printed for the same run, each share is also given in microseconds.

Run from the repository root::

    .venv/bin/python -m bench.profile_breakdown /tmp/relay-profiles/eventlet-imflask-1.txt --us-per-message 900
"""

import argparse
import collections
import sys

# (part, frame names as py-spy prints them). The first match wins.
PARTS = (
    ("Redis batch writer: pack, send, parse, wake callers", ("CommandBatcher._write_batches",)),
    ("conversation check: submit an HGET, wait for its batch", ("ChatService._conversation_with",)),
    ("history append: encode, submit EVALSHA + ZADD, decode", ("RedisHistoryStore.append",)),
    ("baseline store (HSET + EXPIRE pipeline)", ("main.<locals>.store",)),
    ("emit to the peer's room", ("SocketNotifier.to_user", "Server.emit")),
    ("plugin hooks", ("HookCaller",)),
    ("payload checks and ack body", ("register_events.<locals>.on_message", "build_relay.<locals>.message")),
    ("Flask request context per event", ("RequestContext.", "Flask.request_context")),
    ("Flask-SocketIO event wrapper, rest", ("SocketIO._handle_event",)),
    ("application context and handler wrappers", ("in_app_context", "register_events.<locals>.respond")),
    ("ack packet", ("Server._send_packet",)),
    ("python-socketio dispatch", ("Server._handle_event_internal", "Server._handle_eio_message", "Socket.receive")),
    ("WebSocket writer: frames and send()", ("Socket._websocket_handler.<locals>.writer",)),
    (
        "WebSocket reader: frames, unmasking and recv()",
        ("RFC6455WebSocket._recv_frame", "RFC6455WebSocket._iter_frames", "Socket._websocket_handler"),
    ),
    ("event loop (hub, timers, poll)", ("BaseHub.run", "Hub.wait", "BaseHub.fire_timers", "Hub.run")),
)
NO_PYTHON_FRAME = "no Python frame (greenlet switches, GC, native code)"
OTHER = "other"


def breakdown(lines):
    """Return (samples per part, total samples) of py-spy's collapsed stacks."""
    counts = collections.Counter()
    total = 0
    for line in lines:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        if not stack.strip():
            counts[NO_PYTHON_FRAME] += count
            continue
        for part, frames in PARTS:
            if any(frame in stack for frame in frames):
                counts[part] += count
                break
        else:
            counts[OTHER] += count
    return counts, total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", help="a file written by bench.relay --py-spy")
    parser.add_argument("--us-per-message", type=float, help="server CPU per message of the same run, in µs")
    options = parser.parse_args(argv)

    with open(options.profile, encoding="utf-8") as handle:
        counts, total = breakdown(handle)
    if not total:
        raise SystemExit(f"no samples in {options.profile}: was the server busy while py-spy ran?")

    print(f"{total} samples in {options.profile}")
    print("| part | share of server CPU | µs per message |")
    print("|---|---|---|")
    for part in [name for name, _ in PARTS] + [NO_PYTHON_FRAME, OTHER]:
        if counts[part]:
            share = counts[part] / total
            per_message = f"{share * options.us_per_message:.0f}" if options.us_per_message else "n/a"
            print(f"| {part} | {share * 100:.0f}% | {per_message} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
