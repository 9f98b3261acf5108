"""HTTP routes: health check, the Socket.IO client script and the demo pages.

The demo pages exist only with ``IMFLASK_DEMO=1`` or in debug mode: anyone
who reaches them can mint a token for any uid.
"""

import logging
import os

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, send_from_directory, session, url_for
from flask_babel import gettext
from redis.exceptions import RedisError

from imflask.config import demo_enabled
from imflask.errors import ImflaskError
from imflask.i18n import SUPPORTED_LOCALES
from imflask.identity import CHAT_ROLES
from imflask.supervisor import supervisor
from imflask.tokens import mint_token
from imflask.webui import webui

logger = logging.getLogger(__name__)

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOCKETIO_CLIENT_DIR = os.path.join(PROJECT_ROOT, "node_modules", "socket.io-client", "dist")

core = Blueprint("imflask", __name__)
demo = Blueprint("demo", __name__, url_prefix="/demo")


def register_views(app):
    """Register the core routes, the supervisors' statistics page, and the demo pages when demo mode is on."""
    app.register_blueprint(core)
    app.register_blueprint(supervisor)
    app.register_blueprint(webui)
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


@core.get("/favicon.ico")
def favicon():
    """Return 204 No Content for the browser's icon request instead of a 404."""
    return "", 204


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
            return redirect(url_for("demo.chat") + "#signed-in")
    return render_template("demo_login.html", error=error, roles=CHAT_ROLES, locales=SUPPORTED_LOCALES), 400 if error else 200


@demo.get("/chat")
def chat():
    """Open the agent console, or for a customer an example shop page with the chat widget."""
    if "demo_token" not in session:
        return redirect(url_for("demo.login"))

    locale = {"locale": request.args["locale"]} if "locale" in request.args else {}
    if session["demo_role"] == "agent":
        # The fragment hands the token to this tab alone, never to the server's logs.
        return redirect(url_for("webui.console", **locale) + "#token=" + session["demo_token"])
    return render_template("demo_shop.html", token=session["demo_token"], uid=session["demo_uid"])


@demo.post("/logout")
def logout():
    """Forget the demo user of this browser."""
    session.clear()
    return redirect(url_for("demo.login"))


def _sign_in(form):
    """Mint a token for the form's user into the session; return an error text or None."""
    role = form.get("role", "")
    if role not in CHAT_ROLES:
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

