"""Result types of the tier strategy and the checks of its arguments.

:class:`~plugins.tier.strategy.TierStrategy` (Redis) and
:class:`~plugins.tier.model.TierModel` (plain Python) return these same
types, so tests can compare the two with ``==``.
"""

import math
from dataclasses import dataclass, field

from imflask.errors import ImflaskError

MAX_UID_LENGTH = 128


@dataclass(frozen=True)
class Conversation:
    """An active conversation between one customer and one agent.

    ``id`` is the decimal string of a per-prefix counter, and ``started_at``
    is the Unix time in seconds that the caller passed when it was assigned.
    """

    id: str
    customer: str
    agent: str
    started_at: float

    def to_dict(self):
        """Return the protocol shape ``{"id", "customer", "agent", "started_at"}``."""
        return {
            "id": self.id,
            "customer": self.customer,
            "agent": self.agent,
            "started_at": self.started_at,
        }

    @classmethod
    def from_dict(cls, data):
        """Build a conversation from the protocol shape, ignoring extra keys."""
        return cls(
            id=str(data["id"]),
            customer=data["customer"],
            agent=data["agent"],
            started_at=float(data["started_at"]),
        )


@dataclass(frozen=True)
class ConsultResult:
    """Result of a consult.

    ``status`` is ``assigned`` (``conversation`` is set), ``queued``
    (``position`` is set, 1 = next) or ``no_agents``. ``created`` is True
    only when this call made the assignment, not when it returned an
    existing one.
    """

    status: str
    conversation: Conversation | None = None
    position: int | None = None
    created: bool = False


@dataclass(frozen=True)
class Outcome:
    """Conversations that a queue drain created, in assignment order."""

    assigned: list[Conversation] = field(default_factory=list)


@dataclass(frozen=True)
class CloseResult:
    """Result of a close: the closed conversation or the queue exit, then the drain."""

    conversation: Conversation | None = None
    left_queue: bool = False
    assigned: list[Conversation] = field(default_factory=list)


@dataclass(frozen=True)
class LostResult:
    """Result of removing an agent.

    ``closed`` contains the agent's conversations in start order, ``requeued``
    their customers in the same order (now at the queue head), and
    ``assigned`` the conversations the following drain created.
    """

    closed: list[Conversation] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    assigned: list[Conversation] = field(default_factory=list)


def check_uid(value, role):
    """Return ``value`` if it is a valid uid, else raise ``ImflaskError("invalid_uid")``.

    A uid is a non-empty str of at most 128 characters that encodes to UTF-8,
    so a lone surrogate is invalid.
    """
    if isinstance(value, str) and 0 < len(value) <= MAX_UID_LENGTH and _encodes_to_utf8(value):
        return value

    expected = f"expected a non-empty UTF-8 string of at most {MAX_UID_LENGTH} characters"
    detail = f"invalid {role} uid {value!r}: {expected}"
    raise ImflaskError("invalid_uid", detail)


def _encodes_to_utf8(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def not_in_conversation(customer, agent):
    """Return the error for a close by an agent that does not own the customer's conversation."""
    detail = f"customer {customer!r} is not in a conversation with agent {agent!r}"
    return ImflaskError("not_in_conversation", detail)


def check_now(now):
    """Return ``now`` as a float, or raise ValueError unless it is a finite number."""
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise ValueError(f"invalid time {now!r}: expected finite Unix seconds as a float")
    return float(now)


def check_capacity(capacity):
    """Return ``capacity`` if it is an int >= 0, else raise ValueError."""
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
        raise ValueError(f"invalid capacity {capacity!r}: expected an int >= 0")
    return capacity
