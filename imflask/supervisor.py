"""The supervisors' statistics page: the figures of ``flask im stats`` with a chart each.

The page is shown only to a user whose token has the role ``supervisor``. The token
comes as ``Authorization: Bearer <token>`` on every request, or once as
``?token=``: the page then keeps the supervisor's uid in the signed session
cookie for ``IMFLASK_SUPERVISOR_SESSION_TTL`` seconds and redirects to the
same address without the token, so it stays out of history and logs.
"""

import logging
import time
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext
from redis.exceptions import RedisError

from imflask.errors import ImflaskError
from imflask.export import TimeWindow, iter_transcripts, parse_time
from imflask.export.window import format_time
from imflask.stats import FIGURES, compute_figures
from imflask.stats.charts import build_chart
from imflask.stats.render import format_figure

logger = logging.getLogger(__name__)

supervisor = Blueprint("supervisor", __name__, url_prefix="/supervisor")

SUPERVISOR_ROLE = "supervisor"
DEFAULT_SINCE = "7d"

FIGURE_TITLES = {
    "conversations": lazy_gettext("Conversations served"),
    "messages_sent": lazy_gettext("Messages sent"),
    "first_response_median": lazy_gettext("First response time, median"),
    "first_response_p90": lazy_gettext("First response time, 90th percentile"),
    "reply_time_mean": lazy_gettext("Average reply time"),
    "duration_mean": lazy_gettext("Average conversation duration"),
    "peak_concurrent": lazy_gettext("Peak concurrent conversations"),
    "ratings": lazy_gettext("Satisfaction ratings"),
    "rating_mean": lazy_gettext("Average satisfaction (1-5)"),
}


class SignInRequired(Exception):
    """The request carries no valid supervisor token or session; ``status`` is 401 or 403."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


@supervisor.errorhandler(SignInRequired)
def sign_in_required(error):
    """Return a page that explains how to sign in and shows no figure."""
    response = current_app.make_response((render_template("supervisor_denied.html", status=error.status), error.status))
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="imflask supervisor"'
    return response


@supervisor.errorhandler(ImflaskError)
def storage_unavailable(error):
    """Return 503 when the history cannot be read."""
    logger.error("supervisor page: reading the history failed: %s", error)
    return gettext("The statistics are unavailable because the history cannot be read. Try again later."), 503


@supervisor.after_request
def keep_private(response):
    """Keep the figures out of shared caches and the page address out of Referer headers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@supervisor.before_request
def sign_in_from_query():
    """Turn a ``?token=`` into a session, then redirect to the same address without the token."""
    token = request.args.get("token")
    if not token:
        return None

    uid = authenticate(token)
    ttl = float(current_app.config["SUPERVISOR_SESSION_TTL"])
    session.update(supervisor_uid=uid, supervisor_expires=time.time() + ttl)
    remaining = {key: value for key, value in request.args.items() if key != "token"}
    return redirect(request.base_url + (f"?{urlencode(remaining)}" if remaining else ""), 303)


@supervisor.get("/")
def stats_page():
    """Show each agent's figures for the window in the query, as a table and one chart per figure."""
    uid = current_supervisor()

    window, error = window_from_query()
    rows = [] if error else read_figures(window)
    return render_template(
        "supervisor_stats.html",
        supervisor_uid=uid,
        rows=rows,
        figures=FIGURES,
        titles=FIGURE_TITLES,
        charts=[build_chart(figure, rows) for figure in FIGURES],
        format_figure=format_figure,
        since=request.args.get("since", DEFAULT_SINCE),
        until=request.args.get("until", "now"),
        window=window,
        format_time=format_time,
        error=error,
    ), 400 if error else 200


@supervisor.get("/stats.json")
def stats_json():
    """Return the same figures as JSON: ``{"since", "until", "agents": [...]}``."""
    current_supervisor()

    window, error = window_from_query()
    if error:
        return jsonify({"error": error}), 400
    return jsonify({"since": format_time(window.since), "until": format_time(window.until), "agents": read_figures(window)})


@supervisor.post("/logout")
def logout():
    """Forget the supervisor of this browser."""
    session.pop("supervisor_uid", None)
    session.pop("supervisor_expires", None)
    return redirect(url_for("supervisor.stats_page"), 303)


def current_supervisor():
    """Return the uid of the supervisor behind this request.

    Raises SignInRequired (401) without a valid Bearer token or session,
    and (403) for a valid token of another role.
    """
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return authenticate(header[len("Bearer "):].strip())

    if session.get("supervisor_uid") and session.get("supervisor_expires", 0) > time.time():
        return session["supervisor_uid"]
    raise SignInRequired(401)


def authenticate(token):
    """Return the uid of a supervisor token through the authentication plugins, or raise SignInRequired."""
    runtime = current_app.extensions["imflask"]
    try:
        identity = runtime.hook.imflask_authenticate(token=token, config=runtime.config)
    except ImflaskError as error:
        logger.info("supervisor page: token rejected: %s", error.code)
        raise SignInRequired(401) from error

    if identity is None:
        raise SignInRequired(401)
    if identity.role != SUPERVISOR_ROLE:
        logger.warning("supervisor page: rejected uid=%s with role %s", identity.uid, identity.role)
        raise SignInRequired(403)
    return identity.uid


def window_from_query():
    """Return ``(TimeWindow, None)`` from ``?since=`` and ``?until=``, or ``(None, error text)``."""
    now = time.time()
    try:
        since = parse_time(request.args.get("since", DEFAULT_SINCE), now=now)
        until = parse_time(request.args.get("until", "now"), now=now)
    except ValueError:
        return None, gettext("Enter times as 2024-12-04, 2024-12-04T08:30:00+08:00, 7d, 12h or now.")
    if until <= since:
        return None, gettext("The end of the window must be later than its start.")
    return TimeWindow(since, until), None


def read_figures(window):
    """Return the per-agent figures of ``window``; raises ImflaskError("unavailable") when Redis fails."""
    runtime = current_app.extensions["imflask"]
    try:
        transcripts = iter_transcripts(runtime.history, window, snapshot_time=time.time())
        return compute_figures(transcripts, window)
    except RedisError as error:
        raise ImflaskError("unavailable", str(error)) from error
