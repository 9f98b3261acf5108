"""The tier allocation strategy, with its state in Redis.

Every online agent sits in the tier equal to its number of active
conversations. A new customer gets member ``crc32(uid) mod n`` of the lowest
tier holding an eligible agent (available, below capacity), whose ``n``
members are ordered by uid. When nobody is eligible the customer waits in a
FIFO queue, which drains on every release and every agent arrival.

Each operation that changes state is one atomic Lua script (see
``scripts.py``), so any number of workers share one consistent state. Each
step of a choice is O(log n) in the number of agents.
"""

import json
import logging
import zlib

from .scripts import TierKeys, bind_scripts
from .types import (
    CloseResult,
    ConsultResult,
    Conversation,
    LostResult,
    Outcome,
    check_capacity,
    check_now,
    check_uid,
    not_in_conversation,
)

logger = logging.getLogger(__name__)


class TierStrategy:
    """Tier allocation over one Redis key prefix.

    ``redis`` must be a ``redis.Redis`` created with ``decode_responses=True``.
    With ``queue_when_no_agents`` False, a consult while no agent is online
    at all returns status ``no_agents`` and stores nothing.
    """

    def __init__(self, redis, *, prefix="im", queue_when_no_agents=True):
        self.redis = redis
        self.keys = TierKeys.for_prefix(prefix)
        self.queue_when_no_agents = queue_when_no_agents
        self._encode = redis.get_encoder().encode
        # consult.lua queues unless its flag argument is "0", so the default sends none.
        self._consult_flag = () if queue_when_no_agents else (b"0",)
        self._scripts = bind_scripts(redis, self.keys)
        # The two operations of every conversation skip the lookup in _run().
        self._consult = self._scripts["consult"]
        self._close = self._scripts["close"]

    # -- operations that change state ---------------------------------------

    def consult(self, customer, *, now):
        """Assign the customer an agent or queue it. Asking again returns the same result."""
        check_uid(customer, "customer")
        now = check_now(now)
        # The script takes the CRC32 from here because zlib computes it much
        # faster than a Lua loop. It hashes the bytes that Redis receives.
        encoded = self._encode(customer)
        crc = b"%d" % zlib.crc32(encoded)
        reply = self._consult.run(None, _time_argument(now), encoded, crc, *self._consult_flag)

        status, conversation, position, created = reply[:4]
        if len(reply) > 4:
            # A new assignment comes as its id and agent, which saves decoding
            # the JSON that the script stored with this time and customer.
            conversation = Conversation(reply[4], customer, reply[5], now)
        else:
            conversation = _decode(conversation)

        if created:
            _log_assigned([conversation])
        return ConsultResult(status, conversation, position, bool(created))

    def close(self, customer, *, now, agent=None):
        """End the customer's conversation, or take it out of the queue.

        The agent is found from the stored conversation. With ``agent`` given,
        a conversation with another agent raises
        ``ImflaskError("not_in_conversation")`` and changes nothing, and a
        queued customer stays queued. Closing twice, or closing a customer
        with neither a conversation nor a queue place, returns an empty
        result.
        """
        check_uid(customer, "customer")
        # close.lua takes an absent agent as any agent.
        expected_agent = () if agent is None else (self._encode(check_uid(agent, "agent")),)
        reply = self._close.run(None, _time_argument(check_now(now)), self._encode(customer), *expected_agent)
        if reply[0] == "not_in_conversation":
            raise not_in_conversation(customer, agent)

        _, conversation, left_queue, assigned = reply[:4]
        if len(reply) > 4:
            # The closed conversation comes as its id, agent and started_at
            # text, and its customer is the one given here.
            conversation = Conversation(reply[4], customer, reply[5], float(reply[6]))
        else:
            conversation = _decode(conversation)
        return CloseResult(conversation, bool(left_queue), _assigned(assigned) if assigned else [])

    def agent_online(self, agent, *, capacity, now):
        """Bring an agent online, or set a new capacity if it is online, then drain.

        A new agent is available and starts at the load of any conversations
        it still has. An online agent keeps its availability, and keeps its
        conversations when the new capacity is below its load.
        """
        check_uid(agent, "agent")
        check_capacity(capacity)
        assigned = self._run("agent_online", now, agent, str(capacity), agent=agent)
        return Outcome(_assigned(assigned))

    def set_available(self, agent, available, *, now):
        """Make an online agent take new customers or stop taking them. Ignore an offline agent."""
        check_uid(agent, "agent")
        assigned = self._run("set_available", now, agent, "1" if available else "0")
        return Outcome(_assigned(assigned))

    def agent_lost(self, agent, *, now):
        """Take an agent out of the tiers, requeue its customers at the head, then drain."""
        check_uid(agent, "agent")
        was_online, closed, requeued, assigned = self._run("agent_lost", now, agent, agent=agent)

        result = LostResult(_decode_all(closed), list(requeued), _assigned(assigned))
        if was_online or closed:
            logger.info(
                "agent %s lost: %d conversations closed, %d customers requeued, %d assigned",
                agent, len(result.closed), len(result.requeued), len(result.assigned),
            )
        return result

    def drain(self, *, now):
        """Assign queued customers to eligible agents, as a safety net: every change already drains."""
        return Outcome(_assigned(self._run("drain", now)))

    # -- reads ----------------------------------------------------------------

    def conversation_of(self, customer):
        """Return the customer's active conversation, or None."""
        return _decode(self.redis.hget(self.keys.conversations, customer))

    def conversations_of_agent(self, agent):
        """Return the agent's active conversations in start order."""
        # The script reads nothing of the time argument, so any JSON number does.
        return _decode_all(self._run("agent_conversations", 0.0, agent=agent))

    def queue_position(self, customer):
        """Return the customer's place in the queue (1 = next), or None."""
        rank = self.redis.zrank(self.keys.queue, customer)
        return None if rank is None else rank + 1

    def queue_head(self, limit):
        """Return at most ``limit`` queued customers, next first."""
        if limit <= 0:
            return []
        return self.redis.zrange(self.keys.queue, 0, limit - 1)

    def queue_length(self):
        """Return the number of queued customers."""
        return self.redis.zcard(self.keys.queue)

    def is_online(self, agent):
        """Return whether the agent is in the tiers."""
        return bool(self.redis.hexists(self.keys.capacity, agent))

    def agent_state(self, agent):
        """Return ``{"load", "capacity", "available"}`` of an online agent, or None."""
        pipe = self.redis.pipeline(transaction=True)
        for key in (self.keys.load, self.keys.capacity, self.keys.available):
            pipe.hget(key, agent)
        load, capacity, available = pipe.execute()

        if capacity is None:
            return None
        return _agent_state(load, capacity, available)

    def snapshot(self):
        """Return the whole state, read atomically in O(agents + customers).

        Shape: ``{"pointer": int or "full", "agents": {uid: state},
        "queue": [customers, next first], "conversations": {customer:
        Conversation}}``.
        """
        pipe = self.redis.pipeline(transaction=True)
        pipe.get(self.keys.pointer)
        for key in (self.keys.load, self.keys.capacity, self.keys.available, self.keys.conversations):
            pipe.hgetall(key)
        pipe.zrange(self.keys.queue, 0, -1)
        pointer, loads, capacities, availability, conversations, queue = pipe.execute()

        return {
            "pointer": "full" if pointer in (None, "full") else int(pointer),
            "agents": {
                uid: _agent_state(loads[uid], capacity, availability[uid]) for uid, capacity in capacities.items()
            },
            "queue": queue,
            "conversations": {customer: _decode(data) for customer, data in conversations.items()},
        }

    # -- helpers --------------------------------------------------------------

    def _run(self, operation, now, *args, agent=None):
        """Run one operation's script with its keys, the time and ``args``.

        ``agent`` names the agent whose conversation set the script takes as
        AGENT_KEY, for the scripts that use it.
        """
        return self._scripts[operation].run(agent, _time_argument(check_now(now)), *args)


def _time_argument(now):
    """Return the float ``now`` as the JSON number that the scripts store."""
    return repr(now).encode("ascii")


def _agent_state(load, capacity, available):
    return {"load": int(load), "capacity": int(capacity), "available": available == "1"}


def _decode(data):
    return None if data is None else Conversation.from_dict(json.loads(data))


def _decode_all(items):
    return [_decode(data) for data in items]


def _assigned(items):
    conversations = _decode_all(items)
    _log_assigned(conversations)
    return conversations


def _log_assigned(conversations):
    for conversation in conversations:
        logger.debug(
            "assigned customer %s to agent %s: conversation %s",
            conversation.customer, conversation.agent, conversation.id,
        )
