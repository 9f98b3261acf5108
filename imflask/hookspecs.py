"""Hook specifications: the contract between imflask and its plugins.

Hooks are grouped by phase: start-up, connection, conversation, message,
export and CLI. imflask always calls hooks with keyword arguments. A plugin
implements a hook by defining a function of the same name decorated with
``imflask.hookimpl``; it may accept any subset of the arguments.
"""

from imflask import hookspec

# -- start-up: registries of named factories ----------------------------------


@hookspec
def imflask_allocation_strategies():
    """Register allocation strategies by name.

    Called once at start-up. Return a dict mapping a name to a factory
    ``factory(*, redis, config)`` that returns a strategy object, or None to
    register nothing. ``IMFLASK_ALLOCATION`` picks one name (default
    ``tier``). Every plugin's dict is merged; a name registered twice stops
    start-up.
    """


@hookspec
def imflask_history_stores():
    """Register history stores by name.

    Called once at start-up. Return a dict mapping a name to a factory
    ``factory(*, redis, config)`` that returns a store object, or None.
    ``IMFLASK_HISTORY`` picks one name (default ``redis``). A name
    registered twice stops start-up.
    """


@hookspec
def imflask_export_formats():
    """Register transcript export formats by name.

    Called once at start-up. Return a dict mapping a format name to a
    factory ``factory(*, stream, config)``, or None to register nothing.
    ``flask im export --format NAME`` calls the factory once per export with
    a text stream opened with ``newline=""`` and the config mapping. The
    factory returns a writer: its ``write(transcript)`` is called once per
    transcript and its ``close()`` once at the end. The writer must not close
    the stream. A name registered twice stops start-up.
    """


# -- connection -----------------------------------------------------------------


@hookspec(firstresult=True)
def imflask_authenticate(token, config):
    """Turn the token a client sent at connect into an identity.

    Called for each new Socket.IO connection that sent a token.

    Return an :class:`imflask.identity.Identity` to accept the connection,
    or None to leave the decision to the next plugin. Raise
    :class:`imflask.errors.ImflaskError` with code ``auth_invalid`` or
    ``invalid_uid`` to reject it. When no plugin returns an identity, the
    connection is rejected with ``auth_invalid``.

    Stops at the first non-None result.

    :param token: the ``token`` string from the client's ``auth`` object.
    :param config: the application's config mapping.
    """


# -- conversation ---------------------------------------------------------------


@hookspec
def imflask_conversation_started(conversation):
    """Observe a conversation that has just been assigned.

    Called for every plugin after the allocation strategy assigned an agent
    and the start entry was stored. The return value is ignored.

    :param conversation: dict ``{"id", "customer", "agent", "started_at"}``.
    """


@hookspec
def imflask_conversation_closed(conversation, reason):
    """Observe a conversation that has just ended.

    Called for every plugin after the close entry was stored.
    The return value is ignored.

    :param conversation: dict ``{"id", "customer", "agent", "started_at"}``.
    :param reason: ``customer``, ``agent``, ``timeout`` or ``agent_lost``.
    """


# -- message --------------------------------------------------------------------


@hookspec(firstresult=True)
def imflask_message_received(sender, recipient, body, conversation):
    """Accept or reject a text message before it is stored.

    Called for every message that passed the protocol checks, before it is
    stored or relayed.

    Return None to accept the message, or an error code string from
    :data:`imflask.errors.ERROR_CODES` (for example ``message_rejected``) to
    reject it: the sender's ack then carries that code and nothing is stored.

    Stops at the first non-None result.

    :param sender: uid of the authenticated sender.
    :param recipient: uid of the peer.
    :param body: the message text.
    :param conversation: dict of the conversation the message belongs to.
    """


@hookspec
def imflask_message_stored(message, conversation):
    """Observe a message that was stored and is being relayed.

    Called for every plugin once per stored message (not for a retried
    duplicate). The return value is ignored.

    :param message: the stored message dict (the protocol's M).
    :param conversation: dict of the conversation it belongs to.
    """


# -- export ---------------------------------------------------------------------


@hookspec
def imflask_transform_transcript(transcript):
    """Rewrite a transcript on its way to an export, for example to redact PII.

    Called once per exported transcript by ``flask im export --redact``.
    Implementations run as a chain in pluggy's call order (the last
    registered first, ``tryfirst`` and ``trylast`` respected): each receives
    the transcript returned by the one before. Return a new transcript dict,
    or None to pass the transcript on unchanged. Do not modify the dict you
    receive: copy what you change. The built-in ``plugins.redaction`` is
    ``trylast``.

    :param transcript: dict ``{"id", "customer", "agent", "started_at",
        "closed_at", "close_reason", "rating", "utterances"}`` as described
        in docs/export.md.
    """


# -- CLI ------------------------------------------------------------------------


@hookspec
def imflask_register_commands(group):
    """Add commands to the ``flask im`` command group.

    Called once when the CLI is built. The return value is ignored.

    :param group: the :class:`click.Group` behind ``flask im``.
    """
