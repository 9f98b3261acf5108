"""HTTP routes of the embeddable widget and the agent console.

The widget runs on other sites: its script, stylesheet and texts carry an
``Access-Control-Allow-Origin`` header for the origins listed in
``IMFLASK_CORS_ORIGINS``, the same list the Socket.IO handshake accepts,
and for no other origin.
"""

import logging
import os

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_from_directory, session
from flask_babel import force_locale, lazy_gettext

from imflask.config import demo_enabled
from imflask.cors import OriginPolicy
from imflask.i18n import negotiate_locale, page_locale

logger = logging.getLogger(__name__)

WIDGET_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static", "widget")
WIDGET_FILES = {"widget.js": "text/javascript", "session.js": "text/javascript", "widget.css": "text/css"}
ASSET_MAX_AGE = 300

webui = Blueprint("webui", __name__)


@webui.get("/widget/<name>")
def widget_asset(name):
    """Serve a widget script or stylesheet, readable from the allowed origins."""
    if name not in WIDGET_FILES:
        abort(404)
    response = send_from_directory(WIDGET_DIR, name, mimetype=WIDGET_FILES[name], max_age=ASSET_MAX_AGE)
    return allow_listed_origin(response)


@webui.get("/widget/config.json")
def widget_config():
    """Return the widget's texts and limits in the ``locale`` asked for, else the browser's language."""
    locale = negotiate_locale(request.args.get("locale"), request.accept_languages)
    with force_locale(locale):
        strings = translate(WIDGET_STRINGS)
    body = {"locale": locale, "strings": strings, "max_message_bytes": int(current_app.config["MAX_MESSAGE_BYTES"])}
    response = jsonify(body)
    response.headers["Content-Language"] = locale.replace("_", "-")
    return allow_listed_origin(response)


@webui.get("/console")
def console():
    """Show the agent console.

    The page reads the agent's token from the URL fragment (``#token=...``),
    which browsers never send to the server, or in demo mode from the demo
    sign-in.
    """
    token = None
    if demo_enabled(current_app) and session.get("demo_role") == "agent":
        token = session.get("demo_token")

    locale = page_locale()
    page = {
        "token": token,
        "locale": locale,
        "strings": translate(CONSOLE_STRINGS),
        "max_message_bytes": int(current_app.config["MAX_MESSAGE_BYTES"]),
        "demo": "demo" in current_app.blueprints,
    }
    return render_template("console.html", page=page)


def allow_listed_origin(response):
    """Add CORS headers when the request's Origin is in ``IMFLASK_CORS_ORIGINS``."""
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin:
        return response

    if OriginPolicy(current_app.config["CORS_ORIGINS"]).lists(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
    else:
        logger.info("no CORS header for %s: origin %s is not in IMFLASK_CORS_ORIGINS", request.path, origin)
    return response


def translate(strings):
    """Return ``strings`` with every lazy text rendered in the current locale."""
    return {key: str(text) for key, text in strings.items()}


# Texts shared by the widget and the console: message states and errors.
COMMON_STRINGS = {
    "state_sending": lazy_gettext("Sending…"),
    "state_sent": lazy_gettext("Sent"),
    "state_delivered": lazy_gettext("Delivered"),
    "state_failed": lazy_gettext("Not sent"),
    "not_sent_ended": lazy_gettext("the conversation has ended"),
    "too_long": lazy_gettext("The message is too long: the limit is %(limit)s bytes."),
    "offline": lazy_gettext("You are offline. Wait for the connection to come back and try again."),
    "connecting": lazy_gettext("Connecting…"),
    "connected": lazy_gettext("Connected"),
    "reconnecting": lazy_gettext("Connection lost. Reconnecting…"),
    "rejected": lazy_gettext("The chat could not sign you in."),
    "messages_label": lazy_gettext("Messages"),
    "message_label": lazy_gettext("Message"),
    "placeholder": lazy_gettext("Type a message…"),
    "send": lazy_gettext("Send"),
    "typing": lazy_gettext("%(name)s is typing…"),
}

WIDGET_STRINGS = {
    **COMMON_STRINGS,
    "title": lazy_gettext("Customer service"),
    "subtitle": lazy_gettext("Questions? Chat with us."),
    "open_chat": lazy_gettext("Open the chat"),
    "open_chat_unread": lazy_gettext("Open the chat, %(count)s unread messages"),
    "minimize": lazy_gettext("Close the chat window"),
    "welcome": lazy_gettext("Hello! Start a conversation and an agent will answer you here."),
    "consult": lazy_gettext("Start a conversation"),
    "queued": lazy_gettext("You are number %(position)s in the queue."),
    "queue_hint": lazy_gettext("All agents are busy. Keep this page open; an agent will join you soon."),
    "leave_queue": lazy_gettext("Leave the queue"),
    "chatting_with": lazy_gettext("You are chatting with %(agent)s."),
    "end_conversation": lazy_gettext("End"),
    "end_confirm": lazy_gettext("End this conversation?"),
    "end_yes": lazy_gettext("End conversation"),
    "end_no": lazy_gettext("Cancel"),
    "ended": lazy_gettext("The conversation has ended."),
    "new_conversation": lazy_gettext("Start a new conversation"),
    "rating_question": lazy_gettext("How was your conversation with %(agent)s?"),
    "score_label": lazy_gettext("%(score)s out of 5"),
    "comment_label": lazy_gettext("Comment (optional)"),
    "submit_rating": lazy_gettext("Send rating"),
    "skip_rating": lazy_gettext("Skip"),
    "choose_score": lazy_gettext("Choose from 1 to 5 stars first."),
    "thanks": lazy_gettext("Thank you for your feedback!"),
    "entry_started": lazy_gettext("%(agent)s joined the conversation"),
    "entry_closed_customer": lazy_gettext("You ended the conversation"),
    "entry_closed_agent": lazy_gettext("The agent ended the conversation"),
    "entry_closed_timeout": lazy_gettext("The conversation ended because you were offline too long"),
    "entry_closed_agent_lost": lazy_gettext("The agent was disconnected; you are back in the queue"),
    "entry_rated": lazy_gettext("You rated this conversation %(score)s out of 5"),
}

CONSOLE_STRINGS = {
    **COMMON_STRINGS,
    "title": lazy_gettext("Agent console"),
    "conversations": lazy_gettext("Conversations"),
    "no_conversations": lazy_gettext("No active conversations. New customers appear here."),
    "no_selection": lazy_gettext("Choose a conversation on the left."),
    "available": lazy_gettext("Available"),
    "load": lazy_gettext("Load %(load)s / %(capacity)s"),
    "queue": lazy_gettext("Queue %(count)s"),
    "unread": lazy_gettext("%(count)s unread"),
    "ended_tag": lazy_gettext("Ended"),
    "dismiss": lazy_gettext("Remove from the list"),
    "end_conversation": lazy_gettext("End conversation"),
    "end_confirm_agent": lazy_gettext("Click again to end"),
    "loading_older": lazy_gettext("Loading earlier messages…"),
    "history_start": lazy_gettext("Beginning of the history"),
    "enable_alerts": lazy_gettext("Turn on notifications"),
    "new_assignment": lazy_gettext("New customer: %(name)s"),
    "no_token": lazy_gettext("Open this page with your agent token: /console#token=… or sign in on the demo page."),
    "not_agent": lazy_gettext("This token belongs to a customer. The console is for agents."),
    "entry_started": lazy_gettext("Conversation with %(customer)s started"),
    "entry_closed_customer": lazy_gettext("The customer ended the conversation"),
    "entry_closed_agent": lazy_gettext("You ended the conversation"),
    "entry_closed_timeout": lazy_gettext("The conversation ended: the customer was offline too long"),
    "entry_closed_agent_lost": lazy_gettext("The conversation moved back to the queue: you were offline too long"),
    "entry_rated": lazy_gettext("The customer rated the conversation %(score)s out of 5"),
    "entry_rated_comment": lazy_gettext("The customer rated the conversation %(score)s out of 5: %(comment)s"),
    "sign_out": lazy_gettext("Sign out"),
}
