"""Build a chosen history through the real store, with chosen times."""

from dataclasses import dataclass, field


@dataclass
class Seeded:
    """What one seeded conversation should export as."""

    conversation: dict
    texts: list = field(default_factory=list)


def seed_conversation(store, conversation_id, customer, agent, start, *, messages=(), close=None, rating=None):
    """Store a conversation's entries: start, then messages, then close and rating.

    ``messages`` are ``(offset, "customer" | "agent", body)`` with offsets in
    seconds after ``start``; ``close`` is ``(offset, reason)`` and ``rating``
    ``(offset, score, comment)``. Returns the conversation C.
    """
    conversation = {"id": conversation_id, "customer": customer, "agent": agent, "started_at": start}
    store.append_system(customer, agent, event="started", conversation=conversation, now=start)
    for offset, role, body in messages:
        sender, recipient = (customer, agent) if role == "customer" else (agent, customer)
        store.append(sender, recipient, body, now=start + offset)
    if close is not None:
        store.append_system(customer, agent, event="closed", conversation=conversation, now=start + close[0], reason=close[1])
    if rating is not None:
        offset, score, comment = rating
        store.append_system(
            customer, agent, event="rated", conversation=conversation, now=start + offset,
            rating={"score": score, "comment": comment},
        )
    return conversation
