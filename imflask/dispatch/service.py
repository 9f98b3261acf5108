"""ChatService: consult, message, close, history, typing and agent status."""

import logging
import time

from imflask.dispatch.announcer import Announcer
from imflask.dispatch.deferred import DeferredWrites
from imflask.dispatch.errors import storage_guard
from imflask.errors import ImflaskError

logger = logging.getLogger(__name__)


class ChatService:
    """The conversation rules, shared by every worker through Redis.

    Every public method takes the authenticated :class:`Identity` of the
    caller; the sender of a message is always ``identity.uid``. Methods
    raise :class:`ImflaskError` with a protocol code on refusal.
    """

    def __init__(self, *, strategy, history, hook, notifier, presence, names, config, clock=time.time):
        self.strategy = strategy
        self.history = history
        self.hook = hook
        self.notifier = notifier
        self.presence = presence
        self.names = names
        self.config = config
        self.clock = clock
        self.deferred = DeferredWrites()
        self.announce = Announcer(
            strategy=strategy, history=history, hook=hook, notifier=notifier, names=names, clock=clock
        )

    # -- connection ----------------------------------------------------------

    @storage_guard
    def connect(self, identity, sid):
        """Record a new connection; an agent's first one brings it online."""
        count = self.presence.connect(identity.uid, identity.role)
        limit = int(self.config["MAX_CONNECTIONS_PER_UID"])
        if count > limit:
            self.presence.disconnect(identity.uid, identity.role, now=self.clock())
            logger.warning("rejected connection sid=%s: uid=%s already has %d", sid, identity.uid, limit)
            raise ImflaskError("too_many_connections", limit=limit)
        logger.info("connected uid=%s role=%s sid=%s connections=%d", identity.uid, identity.role, sid, count)
        self.names.remember(identity.uid, identity.name)

        if identity.is_agent:
            outcome = self.strategy.agent_online(identity.uid, capacity=self._capacity(identity), now=self.clock())
            assigned = list(outcome.assigned)
            if self.presence.clear_away(identity.uid):
                assigned += self.strategy.set_available(identity.uid, True, now=self.clock()).assigned
            self.deferred.run(f"announcing assignments to agent {identity.uid}", self.announce.assigned_all, assigned)

    def disconnect(self, identity, sid):
        """Record a closed connection; the last one starts the reconnect grace period.

        When Redis is unreachable the count is corrected at a later sweep, so
        the user does not stay online for ever.
        """
        now = self.clock()
        remaining = []
        self.deferred.run(
            f"recording the disconnect of uid={identity.uid} sid={sid}",
            lambda: remaining.append(self.presence.disconnect(identity.uid, identity.role, now=now)),
        )
        logger.info("disconnected uid=%s sid=%s", identity.uid, sid)

        if identity.is_agent and remaining == [0]:
            self.deferred.run(f"pausing agent {identity.uid} while it is away", self._pause_away_agent, identity.uid)

    def _pause_away_agent(self, agent):
        """Stop giving new customers to an agent whose last connection closed; its chats stay.

        The agent becomes available again when it reconnects, unless it had
        made itself unavailable before it left.
        """
        state = self.strategy.agent_state(agent)
        if state is None or not state["available"]:
            return
        self.presence.mark_away(agent)
        self.strategy.set_available(agent, False, now=self.clock())

    @storage_guard
    def state(self, identity):
        """Return what a (re)connecting client needs to draw its screen."""
        if identity.is_agent:
            conversations = self.strategy.conversations_of_agent(identity.uid)
            return {
                "conversations": [c.to_dict() for c in conversations],
                "names": self.names.lookup([c.customer for c in conversations]),
                "agent": self.strategy.agent_state(identity.uid),
                "queue_length": self.strategy.queue_length(),
            }

        conversation = self.strategy.conversation_of(identity.uid)
        return {
            "conversations": [conversation.to_dict()] if conversation else [],
            "names": self.names.lookup([conversation.agent] if conversation else []),
            "position": self.strategy.queue_position(identity.uid),
        }

    # -- conversation --------------------------------------------------------

    @storage_guard
    def consult(self, identity):
        """Assign the customer an agent or queue it; asking again changes nothing."""
        self._require_role(identity, "customer")

        result = self.strategy.consult(identity.uid, now=self.clock())
        if result.status == "no_agents":
            raise ImflaskError("no_agents_online")

        if result.status == "queued":
            logger.info("customer %s queued at position %d", identity.uid, result.position)
            self.deferred.run("announcing the queue length", self.announce.queue_length)
            return {"status": "queued", "position": result.position}

        if result.created or self._start_unannounced(result.conversation):
            self.deferred.run(f"announcing conversation {result.conversation.id}", self.announce.started, result.conversation)
        names = self.names.lookup([result.conversation.customer, result.conversation.agent])
        return {"status": "assigned", "conversation": result.conversation.to_dict(), "names": names}

    @storage_guard
    def close(self, identity, peer=None):
        """End the caller's conversation, or leave the queue; closing twice is a no-op.

        A customer closes its own conversation; an agent names the customer.
        """
        now = self.clock()
        if identity.is_agent:
            result = self.strategy.close(peer, agent=identity.uid, now=now)
            reason = "agent"
        else:
            result = self.strategy.close(identity.uid, now=now)
            reason = "customer"

        self._announce_close(result, reason, now)

    def _announce_close(self, result, reason, now):
        self.deferred.run(f"announcing the close ({reason})", self._publish_close, result, reason, now)

    def _publish_close(self, result, reason, now):
        # The close entry carries the time of the release, which is also the
        # start time of any conversation the release let the queue start.
        if result.conversation is not None:
            self.announce.closed(result.conversation, reason, now=now)
        self.announce.assigned_all(result.assigned)
        if result.left_queue and not result.assigned:
            self.announce.queue_positions()

    @storage_guard
    def rate(self, identity, *, peer, conversation_id, score, comment=None):
        """Store the customer's 1-5 rating of a closed conversation with ``peer``.

        A conversation is rated once: a repeated rating returns the first one.
        """
        self._require_role(identity, "customer")

        closed = self.history.find_system_entry(
            identity.uid, peer, event="closed", conversation_id=conversation_id
        )
        if closed is None or closed["conversation"]["customer"] != identity.uid:
            raise ImflaskError("not_in_conversation")

        entry = self.history.append_system(
            identity.uid,
            peer,
            event="rated",
            conversation=closed["conversation"],
            rating={"score": score, "comment": comment},
            now=self.clock(),
        )
        logger.info("conversation %s rated %s by customer %s", conversation_id, entry["rating"]["score"], identity.uid)
        return entry

    # -- messages ------------------------------------------------------------

    @storage_guard
    def send_message(self, identity, sid, *, to, body, client_msg_id=None):
        """Store a text message from the caller to its peer and relay it.

        Returns the stored message. A retried ``client_msg_id`` returns the
        first stored message and relays nothing again.
        """
        conversation = self._conversation_with(identity, to)

        rejection = _call_if_implemented(
            self.hook.imflask_message_received,
            lambda: {"sender": identity.uid, "recipient": to, "body": body, "conversation": conversation.to_dict()},
        )
        if rejection:
            logger.info("message from %s to %s rejected by a plugin: %s", identity.uid, to, rejection)
            raise ImflaskError(rejection)

        stored = self.history.append(identity.uid, to, body, now=self.clock(), client_msg_id=client_msg_id)
        if stored.duplicate:
            return stored.message

        self.notifier.to_user(to, "message", stored.message)
        self.notifier.to_user(identity.uid, "message", stored.message, skip_sid=sid)
        _call_if_implemented(
            self.hook.imflask_message_stored,
            lambda: {"message": stored.message, "conversation": conversation.to_dict()},
        )
        return stored.message

    @storage_guard
    def history_page(self, identity, *, peer, before=None, limit=None):
        """Return stored messages with the caller's current peer, oldest first."""
        self._conversation_with(identity, peer)
        page_size = int(self.config["HISTORY_PAGE_SIZE"])
        return self.history.read(identity.uid, peer, before=before, limit=limit or page_size)

    @storage_guard
    def typing(self, identity, *, to):
        """Tell the caller's peer that the caller is typing."""
        self._conversation_with(identity, to)
        self.notifier.to_user(to, "typing", {"from": identity.uid})

    @storage_guard
    def delivered(self, identity, *, peer, seq):
        """Tell the caller's peer that the caller's client has received the pair's entries up to ``seq``.

        The receipt is relayed, not stored.
        """
        self._conversation_with(identity, peer)
        self.notifier.to_user(peer, "delivered", {"from": identity.uid, "seq": seq})

    # -- agents --------------------------------------------------------------

    @storage_guard
    def set_status(self, identity, *, available):
        """Make an agent take new customers or stop taking them; its chats stay."""
        self._require_role(identity, "agent")

        outcome = self.strategy.set_available(identity.uid, available, now=self.clock())
        logger.info("agent %s set available=%s", identity.uid, available)
        self.deferred.run("announcing assignments after a status change", self.announce.assigned_all, outcome.assigned)
        return self.strategy.agent_state(identity.uid)

    # -- deadlines (called by the sweeper) -----------------------------------

    def agent_lost(self, agent):
        """Take an agent out of the tiers; its customers go to the queue head."""
        now = self.clock()
        result = self.strategy.agent_lost(agent, now=now)
        self.deferred.run(f"announcing the loss of agent {agent}", self._publish_lost, result, now)

    def _publish_lost(self, result, now):
        for conversation in result.closed:
            self.announce.closed(conversation, "agent_lost", now=now)
        self.announce.assigned_all(result.assigned)
        if result.requeued:
            self.announce.queue_positions()

    def customer_timed_out(self, customer):
        """End a customer's conversation, or its place in the queue, after the grace period."""
        now = self.clock()
        result = self.strategy.close(customer, now=now)
        self._announce_close(result, "timeout", now)

    def drain_queue(self):
        """Assign waiting customers to free agents: a safety net for missed drains."""
        outcome = self.strategy.drain(now=self.clock())
        self.deferred.run("announcing assignments of the periodic drain", self.announce.assigned_all, outcome.assigned)

    # -- helpers -------------------------------------------------------------

    def _start_unannounced(self, conversation):
        """Return whether an existing conversation still lacks its stored start entry."""
        entry = self.history.find_system_entry(
            conversation.customer, conversation.agent, event="started", conversation_id=conversation.id
        )
        return entry is None

    def _conversation_with(self, identity, peer):
        """Return the caller's active conversation with ``peer``, or raise."""
        if identity.is_agent:
            conversation = self.strategy.conversation_of(peer)
            owned = conversation is not None and conversation.agent == identity.uid
        else:
            conversation = self.strategy.conversation_of(identity.uid)
            owned = conversation is not None and conversation.agent == peer

        if not owned:
            raise ImflaskError("not_in_conversation")
        return conversation

    def _capacity(self, identity):
        return identity.capacity or int(self.config["AGENT_CAPACITY"])

    @staticmethod
    def _require_role(identity, role):
        if identity.role != role:
            raise ImflaskError("forbidden_role")


def _call_if_implemented(hook_caller, arguments):
    """Call a hook with the keyword arguments that ``arguments()`` returns, or return None when no plugin implements it.

    Per message, pluggy's argument checks and the arguments themselves cost
    more than the hooks that the default plugins leave unimplemented.
    """
    if not hook_caller.get_hookimpls():
        return None
    return hook_caller(**arguments())
