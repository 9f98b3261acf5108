"""Random operation sequences run on TierStrategy (Redis) and TierModel side by side.

After every step the two must return equal results and equal snapshots, and
the Redis state must satisfy the invariants of the tier algorithm.
"""

import uuid

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from imflask.errors import ImflaskError
from plugins.tier.model import TierModel
from plugins.tier.strategy import TierStrategy

AGENTS = ("agent-1", "agent-2", "a:b", "{tag}", "客服", "x" * 128)
CUSTOMERS = tuple(f"customer-{n}" for n in range(11)) + ("c:1", "{c}", "顾客", "🙂")

# Start time with a fraction that a lossy float round trip would change.
START_TIME = 1_700_000_000.123456

# Most draws pick from the first three agents, so agents fill up, lose
# several customers at once and build a queue within 40 steps.
AGENT_CHOICES = st.sampled_from(AGENTS[:3]) | st.sampled_from(AGENTS)

# Report one bug per run, because shrinking several distinct failures can take minutes.
MACHINE_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    report_multiple_bugs=False,
)


class TierMachine(RuleBasedStateMachine):
    """Drives one fresh Redis prefix and one model with the same operations."""

    def __init__(self, redis_client, key_prefix):
        super().__init__()
        self.redis = redis_client
        self.prefix = f"{key_prefix}-{uuid.uuid4().hex[:8]}"
        self.clock = START_TIME
        self.capacities = {}
        self.expected_queue = []

    def teardown(self):
        keys = list(self.redis.scan_iter(match=f"{self.prefix}*"))
        if keys:
            self.redis.delete(*keys)

    # -- helpers --------------------------------------------------------------

    def tick(self):
        self.clock += 0.731
        return self.clock

    def both(self, operation, *args, **kwargs):
        """Run the operation on both implementations and return the Redis result."""
        expected = getattr(self.model, operation)(*args, **kwargs)
        actual = getattr(self.strategy, operation)(*args, **kwargs)
        assert actual == expected
        return actual

    def follow_drain(self, assigned):
        """Check that a drain served the expected queue head, in order."""
        customers = [conversation.customer for conversation in assigned]
        assert customers == self.expected_queue[: len(customers)]
        del self.expected_queue[: len(customers)]

    def queued_customers(self):
        return self.model.queue_head(len(CUSTOMERS))

    def assigned_customers(self):
        return sorted(self.model.snapshot()["conversations"])

    # -- rules ----------------------------------------------------------------

    @initialize(
        capacities=st.lists(st.integers(1, 3), min_size=len(AGENTS), max_size=len(AGENTS)),
        queue_when_no_agents=st.booleans(),
    )
    def start(self, capacities, queue_when_no_agents):
        self.capacities = dict(zip(AGENTS, capacities))
        self.strategy = TierStrategy(
            self.redis, prefix=self.prefix, queue_when_no_agents=queue_when_no_agents
        )
        self.model = TierModel(queue_when_no_agents=queue_when_no_agents)

    @rule(agent=AGENT_CHOICES)
    def agent_online(self, agent):
        outcome = self.both("agent_online", agent, capacity=self.capacities[agent], now=self.tick())
        self.follow_drain(outcome.assigned)

    @rule(agent=AGENT_CHOICES)
    def agent_lost(self, agent):
        result = self.both("agent_lost", agent, now=self.tick())

        self.expected_queue[:0] = result.requeued
        self.follow_drain(result.assigned)

    @rule(agent=AGENT_CHOICES, available=st.booleans())
    def set_available(self, agent, available):
        outcome = self.both("set_available", agent, available, now=self.tick())
        self.follow_drain(outcome.assigned)

    @rule(customer=st.sampled_from(CUSTOMERS))
    def consult(self, customer):
        was_queued = customer in self.expected_queue
        result = self.both("consult", customer, now=self.tick())

        if result.status == "queued" and not was_queued:
            self.expected_queue.append(customer)
        assert result.status != "queued" or result.position == self.expected_queue.index(customer) + 1

    @rule(customers=st.lists(st.sampled_from(CUSTOMERS), min_size=2, max_size=5, unique=True))
    def consult_several(self, customers):
        for customer in customers:
            self.consult(customer)

    @precondition(lambda self: self.assigned_customers() or self.queued_customers())
    @rule(data=st.data())
    def consult_twice(self, data):
        customer = data.draw(st.sampled_from(self.assigned_customers() + self.queued_customers()))
        before = self.strategy.snapshot()

        first = self.both("consult", customer, now=self.tick())
        second = self.both("consult", customer, now=self.tick())

        assert second == first
        assert first.created is False
        assert self.strategy.snapshot() == before

    @rule(customer=st.sampled_from(CUSTOMERS))
    def close(self, customer):
        result = self.both("close", customer, now=self.tick())

        if result.left_queue:
            self.expected_queue.remove(customer)
        self.follow_drain(result.assigned)

    @precondition(lambda self: self.assigned_customers())
    @rule(data=st.data())
    def close_by_agent(self, data):
        customer = data.draw(st.sampled_from(self.assigned_customers()))
        agent = self.model.conversation_of(customer).agent

        result = self.both("close", customer, agent=agent, now=self.tick())

        assert result.conversation.agent == agent
        self.follow_drain(result.assigned)

    @precondition(lambda self: self.assigned_customers())
    @rule(data=st.data())
    def close_by_wrong_agent(self, data):
        customer = data.draw(st.sampled_from(self.assigned_customers()))
        owner = self.model.conversation_of(customer).agent
        agent = data.draw(st.sampled_from([a for a in AGENTS if a != owner]))
        before = self.strategy.snapshot()

        for implementation in (self.model, self.strategy):
            with pytest.raises(ImflaskError) as caught:
                implementation.close(customer, agent=agent, now=self.tick())
            assert caught.value.code == "not_in_conversation"

        assert self.strategy.snapshot() == before

    @precondition(lambda self: self.queued_customers())
    @rule(data=st.data())
    def leave_queue(self, data):
        customer = data.draw(st.sampled_from(self.queued_customers()))

        result = self.both("close", customer, now=self.tick())

        assert result.left_queue is True
        assert result.assigned == []
        self.expected_queue.remove(customer)

    # -- invariants -----------------------------------------------------------

    @invariant()
    def state_is_consistent(self):
        snapshot = self.strategy.snapshot()
        assert snapshot == self.model.snapshot()

        check_tiers(snapshot, self.capacities)
        check_sorted_sets(snapshot, self.redis, self.strategy.keys)
        check_pointer(snapshot)
        check_customers(snapshot)
        check_nobody_waits_needlessly(snapshot)
        assert snapshot["queue"] == self.expected_queue


def is_eligible(state):
    return state["available"] and state["load"] < state["capacity"]


def check_tiers(snapshot, capacities):
    """Each online agent's tier equals its active conversations, within its capacity."""
    for agent, state in snapshot["agents"].items():
        active = [c for c in snapshot["conversations"].values() if c.agent == agent]
        assert state["load"] == len(active)
        assert state["load"] <= state["capacity"]
        assert state["capacity"] == capacities[agent]


def check_sorted_sets(snapshot, redis_client, keys):
    """The tiers and elig sorted sets score exactly the right agents by load."""
    agents = snapshot["agents"]
    tiers = dict(redis_client.zrange(keys.tiers, 0, -1, withscores=True))
    eligible = dict(redis_client.zrange(keys.elig, 0, -1, withscores=True))

    assert tiers == {agent: state["load"] for agent, state in agents.items()}
    assert eligible == {agent: state["load"] for agent, state in agents.items() if is_eligible(state)}


def check_pointer(snapshot):
    """The pointer is the lowest tier holding an eligible agent, or "full"."""
    loads = [state["load"] for state in snapshot["agents"].values() if is_eligible(state)]
    assert snapshot["pointer"] == (min(loads) if loads else "full")


def check_customers(snapshot):
    """Each customer is assigned once, or queued once, or neither."""
    queue = snapshot["queue"]
    assert len(queue) == len(set(queue))
    assert not set(queue) & set(snapshot["conversations"])
    for customer, conversation in snapshot["conversations"].items():
        assert conversation.customer == customer
        assert conversation.agent in snapshot["agents"]


def check_nobody_waits_needlessly(snapshot):
    """Nobody is queued while an agent is available with free capacity."""
    if snapshot["queue"]:
        assert not any(is_eligible(state) for state in snapshot["agents"].values())


def test_tier_strategy_matches_model(redis_client, key_prefix):
    run_state_machine_as_test(lambda: TierMachine(redis_client, key_prefix), settings=MACHINE_SETTINGS)
