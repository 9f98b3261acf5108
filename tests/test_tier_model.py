"""Tests of TierModel, the plain-Python model of the tier algorithm."""

import math
import zlib

import pytest

from imflask.errors import ImflaskError
from plugins.tier.model import TierModel, stable_hash

NOW = 1_700_000_000.25


@pytest.fixture
def model():
    """An empty tier model that queues customers while no agent is online."""
    return TierModel()


def bring_online(model, agents, capacity=3):
    for agent in agents:
        model.agent_online(agent, capacity=capacity, now=NOW)


def consult_all(model, customers):
    return [model.consult(customer, now=NOW) for customer in customers]


def agent_of(model, customer):
    return model.conversation_of(customer).agent


@pytest.mark.parametrize("uid", ["customer-1", "顾客", "🙂", "a:{b}", "x" * 128])
def test_stable_hash_is_crc32(uid):
    assert stable_hash(uid) == zlib.crc32(uid.encode("utf-8"))


def test_choice_follows_tier_formula(model):
    agents = ["delta", "alpha", "charlie", "bravo", "echo"]
    bring_online(model, agents)
    ordered = sorted(agents)

    for number in range(20):
        customer = f"customer-{number}"
        result = model.consult(customer, now=NOW)
        assert result.conversation.agent == ordered[stable_hash(customer) % len(ordered)]
        model.close(customer, now=NOW)


def test_choice_fills_lowest_tier_first(model):
    bring_online(model, ["a", "b", "c"])

    consult_all(model, ["c1", "c2", "c3"])

    assert sorted(agent_of(model, c) for c in ["c1", "c2", "c3"]) == ["a", "b", "c"]
    assert model.snapshot()["pointer"] == 1


def test_release_above_pointer_keeps_pointer(model):
    """Two agents at tier 1 and one at tier 3: a release at tier 3 leaves the pointer at 1."""
    bring_online(model, ["c"])
    consult_all(model, ["c1", "c2", "c3"])
    bring_online(model, ["a", "b"])
    consult_all(model, ["a1", "b1"])
    assert model.snapshot()["pointer"] == 1

    model.close("c1", now=NOW)

    assert model.agent_state("c")["load"] == 2
    assert model.snapshot()["pointer"] == 1


def test_release_in_pointer_tier_lowers_pointer(model):
    """Three agents at tier 2 and nobody elsewhere: a release moves the pointer to 1."""
    bring_online(model, ["a", "b", "c"])
    consult_all(model, [f"c{n}" for n in range(6)])
    assert model.snapshot()["pointer"] == 2

    model.close("c0", now=NOW)

    assert model.snapshot()["pointer"] == 1


def test_close_at_tier_zero_is_noop(model):
    bring_online(model, ["a"])

    result = model.close("nobody", now=NOW)

    assert result.conversation is None
    assert result.left_queue is False
    assert model.agent_state("a")["load"] == 0
    assert model.snapshot()["pointer"] == 0


def test_queue_is_fifo_and_drains_on_release(model):
    bring_online(model, ["a"], capacity=1)
    consult_all(model, ["c1", "c2", "c3"])

    assert model.queue_head(10) == ["c2", "c3"]
    assert model.queue_position("c3") == 2

    result = model.close("c1", now=NOW)

    assert [c.customer for c in result.assigned] == ["c2"]
    assert model.queue_position("c3") == 1


def test_agent_lost_requeues_before_waiting_customers(model):
    bring_online(model, ["a"], capacity=2)
    consult_all(model, ["c1", "c2", "waiting"])

    result = model.agent_lost("a", now=NOW)

    assert [c.customer for c in result.closed] == ["c1", "c2"]
    assert result.requeued == ["c1", "c2"]
    assert model.queue_head(10) == ["c1", "c2", "waiting"]


def test_agent_lost_later_batch_goes_first(model):
    bring_online(model, ["a"], capacity=1)
    consult_all(model, ["c1"])
    bring_online(model, ["b"], capacity=1)
    consult_all(model, ["c2"])

    model.agent_lost("a", now=NOW)
    model.agent_lost("b", now=NOW)

    assert model.queue_head(10) == ["c2", "c1"]


def test_consult_twice_returns_same_assignment(model):
    bring_online(model, ["a", "b"])
    first = model.consult("c1", now=NOW)

    second = model.consult("c1", now=NOW + 1)

    assert second.conversation == first.conversation
    assert first.created is True
    assert second.created is False
    assert model.agent_state(first.conversation.agent)["load"] == 1


def test_consult_twice_returns_same_position(model):
    consult_all(model, ["c1", "c2"])

    result = model.consult("c2", now=NOW)

    assert result.status == "queued"
    assert result.position == 2
    assert model.queue_length() == 2


def test_consult_no_agents_when_queueing_off():
    model = TierModel(queue_when_no_agents=False)

    result = model.consult("c1", now=NOW)

    assert result.status == "no_agents"
    assert model.queue_length() == 0


def test_close_wrong_agent_raises(model):
    bring_online(model, ["a"])
    bring_online(model, ["b"], capacity=0)
    consult_all(model, ["c1"])

    with pytest.raises(ImflaskError) as caught:
        model.close("c1", agent="b", now=NOW)

    assert caught.value.code == "not_in_conversation"
    assert agent_of(model, "c1") == "a"


@pytest.mark.parametrize("uid", ["", "x" * 129, 7, None, "\ud800"])
def test_consult_invalid_uid_raises(model, uid):
    with pytest.raises(ImflaskError) as caught:
        model.consult(uid, now=NOW)

    assert caught.value.code == "invalid_uid"


@pytest.mark.parametrize("now", [math.nan, math.inf, "1.0", True])
def test_consult_invalid_time_raises(model, now):
    with pytest.raises(ValueError):
        model.consult("c1", now=now)


@pytest.mark.parametrize("capacity", [-1, 1.5, True, "3"])
def test_agent_online_invalid_capacity_raises(model, capacity):
    with pytest.raises(ValueError):
        model.agent_online("a", capacity=capacity, now=NOW)
