"""Fixtures shared by every test module."""

import os
import uuid

import pytest
import redis

TEST_REDIS_URL = os.environ.get("IMFLASK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url():
    """URL of the real Redis server the tests use."""
    return TEST_REDIS_URL


@pytest.fixture
def redis_client(redis_url):
    """A client of the test Redis that returns str values."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client):
    """A key prefix unique to this test; its keys are deleted afterwards."""
    prefix = f"imtest-{uuid.uuid4().hex[:12]}"
    yield prefix
    leftover = list(redis_client.scan_iter(match=f"{prefix}*", count=1000))
    if leftover:
        redis_client.delete(*leftover)
