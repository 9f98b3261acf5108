"""Announce allocation outcomes: store system entries, notify both sides, call hooks."""

import logging

logger = logging.getLogger(__name__)

# Each queue change re-sends positions to at most this many waiting customers,
# so one release costs bounded work however long the queue is.
QUEUE_NOTIFY_LIMIT = 1000


class Announcer:
    """Publishes what the strategy decided to the users and the plugins."""

    def __init__(self, *, strategy, history, hook, notifier, names, clock):
        self.strategy = strategy
        self.history = history
        self.hook = hook
        self.notifier = notifier
        self.names = names
        self.clock = clock

    def started(self, conversation):
        """Store the start entry and tell customer and agent they are connected."""
        data = conversation.to_dict()
        entry = self.history.append_system(
            conversation.customer, conversation.agent, event="started", conversation=data, now=self.clock()
        )
        logger.info(
            "conversation %s started: customer=%s agent=%s",
            conversation.id,
            conversation.customer,
            conversation.agent,
        )

        names = self.names.lookup([conversation.customer, conversation.agent])
        for uid in (conversation.customer, conversation.agent):
            self.notifier.to_user(uid, "assigned", {"conversation": data, "names": names})
            self.notifier.to_user(uid, "message", entry)

        self.hook.imflask_conversation_started(conversation=data)

    def closed(self, conversation, reason, *, now=None):
        """Store the close entry, stamped ``now`` (default: the clock), and tell both sides why it ended."""
        data = conversation.to_dict()
        entry = self.history.append_system(
            conversation.customer,
            conversation.agent,
            event="closed",
            conversation=data,
            reason=reason,
            now=self.clock() if now is None else now,
        )
        logger.info("conversation %s closed: reason=%s", conversation.id, reason)

        for uid in (conversation.customer, conversation.agent):
            self.notifier.to_user(uid, "message", entry)
            self.notifier.to_user(uid, "closed", {"conversation": data, "reason": reason})

        self.hook.imflask_conversation_closed(conversation=data, reason=reason)

    def assigned_all(self, conversations):
        """Announce every conversation a queue drain created, then the new positions."""
        for conversation in conversations:
            self.started(conversation)
        if conversations:
            self.queue_positions()

    def queue_positions(self):
        """Send each waiting customer (up to the notify limit) its position, and agents the queue length."""
        head = self.strategy.queue_head(QUEUE_NOTIFY_LIMIT)
        for position, customer in enumerate(head, start=1):
            self.notifier.to_user(customer, "queued", {"position": position})
        self.queue_length()

    def queue_length(self):
        """Tell every connected agent how many customers wait now."""
        self.notifier.to_role("agent", "queue_length", {"queue_length": self.strategy.queue_length()})
