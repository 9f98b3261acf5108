"""HTTP routes: health check, the Socket.IO client script and the demo pages.

The demo pages exist only with ``IMFLASK_DEMO=1`` or in debug mode: anyone
who reaches them can mint a token for any uid.
"""

import logging
import os

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, send_from_directory, session, url_for
from flask_babel import gettext, lazy_gettext
from redis.exceptions import RedisError

from imflask.config import demo_enabled
from imflask.errors import ImflaskError
from imflask.i18n import SUPPORTED_LOCALES
from imflask.identity import ROLES
from imflask.tokens import mint_token

logger = logging.getLogger(__name__)

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOCKETIO_CLIENT_DIR = os.path.join(PROJECT_ROOT, "node_modules", "socket.io-client", "dist")

core = Blueprint("imflask", __name__)
demo = Blueprint("demo", __name__, url_prefix="/demo")


def register_views(app):
    """Register the core routes, and the demo pages when demo mode is on."""
    app.register_blueprint(core)
    if demo_enabled(app):
        app.register_blueprint(demo)
        logger.warning("demo pages are on at /demo: anyone who reaches them can sign in as anyone")


@core.get("/healthz")
def health():
    """Report whether this worker reaches Redis."""
    try:
        current_app.extensions["imflask"].redis.ping()
    except RedisError as error:
        logger.error("health check: Redis unreachable: %s", error)
        return jsonify({"ok": False, "redis": "unreachable"}), 503
    return jsonify({"ok": True, "redis": "ok"})


@core.get("/vendor/socket.io.min.js")
def socketio_client():
    """Serve the pinned socket.io-client build installed by npm."""
    if not os.path.exists(os.path.join(SOCKETIO_CLIENT_DIR, "socket.io.min.js")):
        logger.error("socket.io-client is not installed in %s; run `npm ci`", SOCKETIO_CLIENT_DIR)
        abort(404)
    return send_from_directory(SOCKETIO_CLIENT_DIR, "socket.io.min.js", mimetype="text/javascript")


@core.get("/")
def index():
    """Send visitors to the demo when it is on."""
    if "demo" in current_app.blueprints:
        return redirect(url_for("demo.login"))
    return jsonify({"name": "imflask", "health": url_for("imflask.health")})


@demo.route("/", methods=["GET", "POST"])
def login():
    """Show the demo sign-in form; a valid post signs in and opens the chat page."""
    error = None
    if request.method == "POST":
        error = _sign_in(request.form)
        if error is None:
            return redirect(url_for("demo.chat"))
    return render_template("demo_login.html", error=error, roles=ROLES, locales=SUPPORTED_LOCALES), 400 if error else 200


@demo.get("/chat")
def chat():
    """Show the customer or agent page of the signed-in demo user."""
    if "demo_token" not in session:
        return redirect(url_for("demo.login"))

    template = "demo_agent.html" if session["demo_role"] == "agent" else "demo_customer.html"
    return render_template(template, token=session["demo_token"], uid=session["demo_uid"], strings=_page_strings())


@demo.post("/logout")
def logout():
    """Forget the demo user of this browser."""
    session.clear()
    return redirect(url_for("demo.login"))


def _sign_in(form):
    """Mint a token for the form's user into the session; return an error text or None."""
    role = form.get("role", "")
    if role not in ROLES:
        return gettext("Choose a role.")

    capacity = form.get("capacity", "").strip()
    if capacity and not (capacity.isdigit() and 1 <= int(capacity) <= 1000):
        return gettext("Capacity must be a whole number from 1 to 1000.")

    secret = current_app.config["JWT_SECRET"]
    ttl = int(current_app.config["DEMO_TOKEN_TTL"])
    uid = form.get("uid", "").strip()
    try:
        token = mint_token(secret, uid, role, name=form.get("name", "").strip(), capacity=int(capacity) if capacity else None, ttl=ttl)
    except ImflaskError:
        return gettext("The user id must be 1 to 128 characters without control characters.")

    session.update(demo_token=token, demo_uid=uid, demo_role=role)
    return None


def _page_strings():
    """Return the translated texts the page script shows."""
    return {key: str(text) for key, text in PAGE_STRINGS.items()}


PAGE_STRINGS = {
    "connecting": lazy_gettext("Connecting…"),
    "connected": lazy_gettext("Connected"),
    "disconnected": lazy_gettext("Disconnected, reconnecting…"),
    "queued": lazy_gettext("You are number %(position)s in the queue."),
    "assigned": lazy_gettext("You are chatting with %(agent)s."),
    "idle": lazy_gettext("Click Consult to talk to an agent."),
    "closed": lazy_gettext("The conversation has ended."),
    "started_entry": lazy_gettext("Conversation started"),
    "closed_entry": lazy_gettext("Conversation closed"),
    "typing": lazy_gettext("%(name)s is typing…"),
    "no_conversation": lazy_gettext("No active conversations."),
    "available": lazy_gettext("Available"),
    "unavailable": lazy_gettext("Unavailable"),
    "load": lazy_gettext("Load %(load)s / %(capacity)s · queue %(queue)s"),
    "error": lazy_gettext("Error: %(message)s"),
}
