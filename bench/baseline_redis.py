"""Baseline (b) of bench.relay: the bare relay plus one pipelined HSET + EXPIRE per message.

Before it relays a message, the server stores it as JSON in the hash
``<prefix>:pair:<low uid>:<high uid>``, field ``m:<n>``, with one round
trip: a pipeline (no MULTI) of HSET and EXPIRE. ``n`` counts messages in
this process. The relayed message is the stored one: ``{"seq", "type",
"from", "to", "body", "ts", "client_msg_id"}``. Connections come from a
BlockingConnectionPool of 64, as in imflask's default.

Run: ``.venv/bin/python -m bench.baseline_redis --port 5101 --prefix bench-b``.
Delete the keys afterwards; bench.relay does that itself.
"""

from bench.baseline_bare import build_parser, build_relay, monkey_patch, serve

THIRTY_DAYS = 30 * 24 * 3600


def main():
    parser = build_parser(__doc__)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0", help="Redis server (default local)")
    parser.add_argument("--prefix", required=True, help="prefix of every key this server writes")
    parser.add_argument("--ttl", type=int, default=THIRTY_DAYS, help="EXPIRE of each pair hash, in seconds")
    options = parser.parse_args()
    monkey_patch(options.async_mode)

    import itertools
    import json
    import time

    import redis

    pool = redis.BlockingConnectionPool.from_url(options.redis_url, max_connections=64, timeout=5)
    client = redis.Redis(connection_pool=pool)
    sequence = itertools.count(1)

    def store(sender, relayed):
        recipient = relayed["to"]
        low, high = sorted((sender, recipient))
        key = f"{options.prefix}:pair:{low}:{high}"
        message = {"seq": next(sequence), "type": "text", "ts": time.time(), **relayed}

        pipe = client.pipeline(transaction=False)
        pipe.hset(key, f"m:{message['seq']}", json.dumps(message, ensure_ascii=False, separators=(",", ":")))
        pipe.expire(key, options.ttl)
        pipe.execute()
        return message

    serve(build_relay(options.async_mode, store=store), options)


if __name__ == "__main__":
    main()
