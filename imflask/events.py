"""Socket.IO event handlers: validate the payload, call the service, build the ack.

This module uses Socket.IO and never touches Redis. Every client event
returns an ack object: ``{"ok": true, ...}`` or ``{"ok": false, "error":
{"code", "message"}}`` with the message in the connection's locale.

The handlers are registered on the python-socketio server itself, not
through Flask-SocketIO's decorators, which push a Flask request context
(and open the cookie session) for every event. Each handler runs in an
application context instead, so translations and plugins that read
``current_app`` work, and gets the connection's sid as an argument.
"""

import logging
from dataclasses import dataclass, field

from socketio import PubSubManager
from socketio.exceptions import ConnectionRefusedError
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from imflask import payloads
from imflask.errors import ImflaskError
from imflask.i18n import error_body, negotiate_locale
from imflask.identity import CHAT_ROLES, Identity
from imflask.ratelimit import TokenBucket

logger = logging.getLogger(__name__)


def user_room(uid):
    """Return the room every connection of ``uid`` joins."""
    return f"user:{uid}"


def role_room(role):
    """Return the room every connection of a user with ``role`` joins."""
    return f"role:{role}"


@dataclass(frozen=True)
class Connection:
    """An authenticated Socket.IO connection of this worker."""

    sid: str
    identity: Identity
    locale: str
    bucket: TokenBucket = field(compare=False)


class SocketNotifier:
    """Delivers service events to the room of a uid or of a role through Flask-SocketIO."""

    def __init__(self, socketio):
        self.socketio = socketio

    def to_user(self, uid, event, data, *, skip_sid=None):
        room = user_room(uid)
        if skip_sid is not None and not self._reaches_others(room, skip_sid):
            return
        self.socketio.emit(event, data, to=room, skip_sid=skip_sid)

    def _reaches_others(self, room, skip_sid):
        """Return whether an emit to ``room`` that skips ``skip_sid`` could reach anyone.

        With a message queue the other workers' members are unknown here,
        so it returns True. Without one, this worker has every member, and
        an emit that reaches no one would only encode the packet.
        """
        manager = self.socketio.server.manager
        if isinstance(manager, PubSubManager):
            return True
        return any(sid != skip_sid for sid, _ in manager.get_participants("/", room))

    def to_role(self, role, event, data):
        self.socketio.emit(event, data, to=role_room(role))


def register_events(socketio, app, runtime):
    """Attach every protocol event handler to the python-socketio server of ``socketio``."""
    server = socketio.server
    connections = {}
    service = runtime.service
    config = runtime.config
    max_bytes = int(config["MAX_MESSAGE_BYTES"])

    def respond(sid, work):
        connection = connections.get(sid)
        if connection is None:
            return _error_ack("auth_required", config["DEFAULT_LOCALE"])
        if not connection.bucket.consume():
            if connection.bucket.rejections == 1:
                logger.warning("rate limit reached by uid=%s sid=%s", connection.identity.uid, connection.sid)
            return _error_ack("rate_limited", connection.locale)
        return _run(work, connection)

    def on_connect(sid, environ, auth=None):
        auth = auth if isinstance(auth, dict) else {}
        accept_languages = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
        locale = negotiate_locale(auth.get("locale"), accept_languages)
        identity = _authenticate(runtime, auth.get("token"), locale)

        bucket = TokenBucket(config["RATE_LIMIT_PER_SECOND"], config["RATE_LIMIT_BURST"])
        connections[sid] = Connection(sid, identity, locale, bucket)
        server.enter_room(sid, user_room(identity.uid))
        server.enter_room(sid, role_room(identity.role))
        runtime.start_sweeper()
        try:
            service.connect(identity, sid)
        except ImflaskError as error:
            connections.pop(sid, None)
            raise _refusal(error.code, locale, error.params) from error

    def on_disconnect(sid, reason=None):
        connection = connections.pop(sid, None)
        if connection is None:
            return
        try:
            service.disconnect(connection.identity, sid)
        except Exception:
            logger.exception("could not record disconnect of uid=%s sid=%s", connection.identity.uid, sid)

    def on_unknown(event, sid, *args):
        def work(conn):
            raise ImflaskError("invalid_payload", f"unknown event {str(event)[:64]!r}")

        return respond(sid, work)

    def in_app_context(handler):
        def run(*args):
            with app.app_context():
                return handler(*args)

        return run

    server.on("connect", in_app_context(on_connect))
    server.on("disconnect", in_app_context(on_disconnect))
    server.on("*", in_app_context(on_unknown))

    def client_event(name):
        """Register ``work(conn, data)`` as the handler of client event ``name``.

        The handler takes any arguments, so a client that sends none, or
        several, still gets an ack: more than one payload is invalid.
        """

        def register(work):
            def handler(sid, *args):
                return respond(sid, lambda conn: work(conn, payloads.require_object(_single_payload(args))))

            server.on(name, in_app_context(handler))
            return work

        return register

    @client_event("state")
    def on_state(conn, data):
        return {"identity": conn.identity.to_dict(), **service.state(conn.identity)}

    @client_event("consult")
    def on_consult(conn, data):
        return service.consult(conn.identity)

    @client_event("message")
    def on_message(conn, data):
        to = payloads.read_uid(data, "to")
        body = payloads.read_body(data, max_bytes)
        client_msg_id = payloads.read_client_msg_id(data)
        message = service.send_message(conn.identity, conn.sid, to=to, body=body, client_msg_id=client_msg_id)
        return {"message": message}

    @client_event("close")
    def on_close(conn, data):
        peer = payloads.read_uid(data, "peer") if conn.identity.is_agent else None
        service.close(conn.identity, peer)
        return {}

    @client_event("rate")
    def on_rate(conn, data):
        peer = payloads.read_uid(data, "peer")
        conversation_id = payloads.read_conversation_id(data)
        score = payloads.read_score(data)
        comment = payloads.read_comment(data)
        service.rate(conn.identity, peer=peer, conversation_id=conversation_id, score=score, comment=comment)
        return {}

    @client_event("history")
    def on_history(conn, data):
        peer = payloads.read_uid(data, "peer")
        before = payloads.read_positive_int(data, "before")
        limit = payloads.read_positive_int(data, "limit", maximum=payloads.MAX_HISTORY_LIMIT)
        return {"messages": service.history_page(conn.identity, peer=peer, before=before, limit=limit)}

    @client_event("typing")
    def on_typing(conn, data):
        service.typing(conn.identity, to=payloads.read_uid(data, "to"))
        return {}

    @client_event("status")
    def on_status(conn, data):
        available = payloads.read_bool(data, "available")
        return {"agent": service.set_status(conn.identity, available=available)}

    @client_event("delivered")
    def on_delivered(conn, data):
        peer = payloads.read_uid(data, "peer")
        service.delivered(conn.identity, peer=peer, seq=payloads.read_seq(data))
        return {}


def _single_payload(args):
    """Return the one payload argument of an event, None when there is none."""
    if len(args) > 1:
        raise ImflaskError("invalid_payload", f"expected one payload argument, got {len(args)}")
    return args[0] if args else None


def _authenticate(runtime, token, locale):
    """Return the identity for ``token`` or refuse the connection."""
    if not token:
        raise _refusal("auth_required", locale)

    try:
        identity = runtime.hook.imflask_authenticate(token=token, config=runtime.config)
    except ImflaskError as error:
        logger.info("connection refused: %s (%s)", error.code, error.detail)
        raise _refusal(error.code, locale) from error

    if identity is None:
        raise _refusal("auth_invalid", locale)
    if identity.role not in CHAT_ROLES:
        logger.info("connection refused: role %s of uid=%s does not chat", identity.role, identity.uid)
        raise _refusal("forbidden_role", locale)
    return identity


def _refusal(code, locale, params=None):
    """Build the exception that refuses a connection.

    The client's ``connect_error`` gets ``message`` and ``data``, the
    protocol's error object.
    """
    body = error_body(code, locale, params)
    return ConnectionRefusedError(body["message"], body)


def _run(work, connection):
    try:
        return {"ok": True, **work(connection)}
    except ImflaskError as error:
        return _error_ack(error.code, connection.locale, error.params, error.detail)
    except Exception:
        logger.exception("event failed for uid=%s sid=%s", connection.identity.uid, connection.sid)
        return _error_ack("internal_error", connection.locale)


def _error_ack(code, locale, params=None, detail=None):
    return {"ok": False, "error": error_body(code, locale, params, detail)}
