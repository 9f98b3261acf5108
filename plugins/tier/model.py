"""A plain-Python model of the tier algorithm, for tests and benchmarks.

:class:`TierModel` has the public methods and return types of
:class:`~plugins.tier.strategy.TierStrategy` and makes the same choices from
the same sequence of calls, but keeps its state in one process. It is a
reference, not a shared store.
"""

import bisect
import zlib
from dataclasses import dataclass

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


@dataclass
class _Agent:
    load: int
    capacity: int
    available: bool

    @property
    def eligible(self):
        return self.available and self.load < self.capacity


def stable_hash(uid):
    """Return the CRC32 of the UTF-8 uid, the hash both implementations use."""
    return zlib.crc32(uid.encode("utf-8")) & 0xFFFFFFFF


class TierModel:
    """Tier allocation in memory. TierStrategy documents the contract of each method."""

    def __init__(self, *, queue_when_no_agents=True):
        self.queue_when_no_agents = queue_when_no_agents
        self._agents = {}
        self._conversations = {}
        self._agent_customers = {}
        self._pointer = "full"
        self._conversation_seq = 0

        # Eligible agents as (load, UTF-8 uid, uid), the order of the Redis
        # sorted set, and each agent's current entry in that list.
        self._eligible = []
        self._eligible_entries = {}

        # The queue as sorted (ticket, customer) pairs, and each customer's ticket.
        self._queue = []
        self._tickets = {}
        self._queue_tail = 0
        self._queue_head = 0

    # -- operations that change state ---------------------------------------

    def consult(self, customer, *, now):
        """Assign the customer an agent or queue it. Asking again returns the same result."""
        check_uid(customer, "customer")
        now = check_now(now)
        if customer in self._conversations:
            return ConsultResult("assigned", self._conversations[customer])
        if customer in self._tickets:
            return ConsultResult("queued", position=self.queue_position(customer))

        agent = None if self._queue else self._choose_agent(customer)
        if agent is not None:
            conversation = self._assign(customer, agent, now)
            self._write_pointer()
            return ConsultResult("assigned", conversation, created=True)

        if not self.queue_when_no_agents and not self._agents:
            return ConsultResult("no_agents")

        self._enqueue_at_tail(customer)
        self._finish(now)
        if customer in self._tickets:
            return ConsultResult("queued", position=self.queue_position(customer))
        return ConsultResult("assigned", self._conversations[customer], created=True)

    def close(self, customer, *, now, agent=None):
        """End the customer's conversation, or take it out of the queue."""
        check_uid(customer, "customer")
        now = check_now(now)
        conversation = self._conversations.get(customer)
        if conversation is not None:
            if agent is not None and agent != conversation.agent:
                raise not_in_conversation(customer, agent)
            self._end_conversation(conversation)
            return CloseResult(conversation, False, self._finish(now))

        left_queue = agent is None and customer in self._tickets
        if left_queue:
            self._dequeue(customer)
        return CloseResult(None, left_queue, self._finish(now))

    def agent_online(self, agent, *, capacity, now):
        """Bring an agent online, or set a new capacity if it is online, then drain."""
        check_uid(agent, "agent")
        check_capacity(capacity)
        now = check_now(now)
        state = self._agents.get(agent)
        if state is None:
            load = len(self._agent_customers.get(agent, ()))
            self._agents[agent] = _Agent(load, capacity, available=True)
        else:
            state.capacity = capacity

        self._refresh_agent(agent)
        return Outcome(self._finish(now))

    def set_available(self, agent, available, *, now):
        """Make an online agent take new customers or stop taking them. Ignore an offline agent."""
        check_uid(agent, "agent")
        now = check_now(now)
        if agent not in self._agents:
            return Outcome()

        self._agents[agent].available = bool(available)
        self._refresh_agent(agent)
        return Outcome(self._finish(now))

    def agent_lost(self, agent, *, now):
        """Take an agent out of the tiers, requeue its customers at the head, then drain."""
        check_uid(agent, "agent")
        now = check_now(now)
        customers = [c for c in self._agent_customers.pop(agent, ()) if c in self._conversations]
        closed = [self._conversations.pop(customer) for customer in customers]

        self._agents.pop(agent, None)
        self._remove_eligible(agent)
        if customers:
            self._enqueue_at_head(customers)
        return LostResult(closed, customers, self._finish(now))

    def drain(self, *, now):
        """Assign queued customers to eligible agents."""
        return Outcome(self._finish(check_now(now)))

    # -- reads ----------------------------------------------------------------

    def conversation_of(self, customer):
        """Return the customer's active conversation, or None."""
        return self._conversations.get(customer)

    def conversations_of_agent(self, agent):
        """Return the agent's active conversations in start order."""
        return [self._conversations[customer] for customer in self._agent_customers.get(agent, ())]

    def queue_position(self, customer):
        """Return the customer's place in the queue (1 = next), or None."""
        ticket = self._tickets.get(customer)
        if ticket is None:
            return None
        return bisect.bisect_left(self._queue, (ticket, customer)) + 1

    def queue_head(self, limit):
        """Return at most ``limit`` queued customers, next first."""
        return [customer for _, customer in self._queue[: max(limit, 0)]]

    def queue_length(self):
        """Return the number of queued customers."""
        return len(self._queue)

    def is_online(self, agent):
        """Return whether the agent is in the tiers."""
        return agent in self._agents

    def agent_state(self, agent):
        """Return ``{"load", "capacity", "available"}`` of an online agent, or None."""
        state = self._agents.get(agent)
        if state is None:
            return None
        return {"load": state.load, "capacity": state.capacity, "available": state.available}

    def snapshot(self):
        """Return the whole state in the shape of ``TierStrategy.snapshot``."""
        return {
            "pointer": self._pointer,
            "agents": {uid: self.agent_state(uid) for uid in self._agents},
            "queue": self.queue_head(len(self._queue)),
            "conversations": dict(self._conversations),
        }

    # -- tiers ----------------------------------------------------------------

    def _choose_agent(self, customer):
        """Return member ``crc32 mod n`` of the lowest eligible tier, or None."""
        if not self._eligible:
            return None

        tier = self._eligible[0][0]
        first = bisect.bisect_left(self._eligible, (tier,))
        size = bisect.bisect_left(self._eligible, (tier + 1,)) - first
        return self._eligible[first + stable_hash(customer) % size][2]

    def _assign(self, customer, agent, now):
        self._conversation_seq += 1
        conversation = Conversation(str(self._conversation_seq), customer, agent, now)

        self._conversations[customer] = conversation
        self._agent_customers.setdefault(agent, []).append(customer)
        self._agents[agent].load += 1
        self._refresh_agent(agent)
        return conversation

    def _end_conversation(self, conversation):
        """Forget the conversation and move its agent down one tier, unless at load 0."""
        del self._conversations[conversation.customer]
        customers = self._agent_customers[conversation.agent]
        customers.remove(conversation.customer)
        if not customers:
            del self._agent_customers[conversation.agent]

        state = self._agents.get(conversation.agent)
        if state is not None and state.load > 0:
            state.load -= 1
            self._refresh_agent(conversation.agent)

    def _refresh_agent(self, agent):
        self._remove_eligible(agent)

        state = self._agents[agent]
        if state.eligible:
            entry = (state.load, agent.encode("utf-8"), agent)
            bisect.insort(self._eligible, entry)
            self._eligible_entries[agent] = entry

    def _remove_eligible(self, agent):
        entry = self._eligible_entries.pop(agent, None)
        if entry is not None:
            del self._eligible[bisect.bisect_left(self._eligible, entry)]

    def _write_pointer(self):
        self._pointer = self._eligible[0][0] if self._eligible else "full"

    def _finish(self, now):
        """Drain the queue while an agent is eligible, then store the pointer."""
        assigned = []
        while self._eligible and self._queue:
            _, customer = self._queue[0]
            self._dequeue(customer)
            assigned.append(self._assign(customer, self._choose_agent(customer), now))

        self._write_pointer()
        return assigned

    # -- queue ----------------------------------------------------------------

    def _enqueue_at_tail(self, customer):
        self._queue_tail += 1
        self._add_ticket(customer, self._queue_tail)

    def _enqueue_at_head(self, customers):
        """Put the customers before everybody waiting, in order, as Redis does."""
        self._queue_head -= len(customers)
        for offset, customer in enumerate(customers):
            if customer not in self._tickets:
                self._add_ticket(customer, self._queue_head + offset)

    def _add_ticket(self, customer, ticket):
        self._tickets[customer] = ticket
        bisect.insort(self._queue, (ticket, customer))

    def _dequeue(self, customer):
        ticket = self._tickets.pop(customer)
        del self._queue[bisect.bisect_left(self._queue, (ticket, customer))]
