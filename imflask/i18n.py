"""Language selection and the translated text of error codes.

Screens and error messages are in Simplified Chinese and English. A
Socket.IO connection keeps the locale it chose at connect: ``auth.locale``,
else the handshake's Accept-Language. A page uses ``?locale=``, then the
``locale`` cookie, then Accept-Language. Both fall back to
``IMFLASK_DEFAULT_LOCALE``. A page opened with ``?locale=`` stores the
choice in the cookie.

Babel spells Simplified Chinese ``zh_Hans_CN``, so that is the name of its
catalog folder under translations/, while settings and clients use ``zh_CN``.
"""

from flask import current_app, request
from flask_babel import Babel, force_locale, get_locale, lazy_gettext

SUPPORTED_LOCALES = ("zh_CN", "en")

ERROR_MESSAGES = {
    "auth_required": lazy_gettext("Sign in first: the connection carried no token."),
    "auth_invalid": lazy_gettext("The sign-in token is invalid or expired. Sign in again."),
    "invalid_payload": lazy_gettext("The request is malformed: %(detail)s"),
    "invalid_uid": lazy_gettext("The user id is invalid: it must be 1 to 128 characters."),
    "message_too_large": lazy_gettext("The message is too long: the limit is %(limit)s bytes."),
    "not_in_conversation": lazy_gettext("You are not in a conversation with this user."),
    "message_rejected": lazy_gettext("The message was not sent: its content is not allowed here."),
    "forbidden_role": lazy_gettext("Your role is not allowed to do this."),
    "rate_limited": lazy_gettext("Too many requests. Wait a moment and try again."),
    "too_many_connections": lazy_gettext(
        "Too many open connections for this user: the limit is %(limit)s. Close another tab first."
    ),
    "no_agents_online": lazy_gettext("No agent is online right now. Please try again later."),
    "unavailable": lazy_gettext("The service is temporarily unavailable. Please try again."),
    "internal_error": lazy_gettext("Something went wrong on the server. Please try again."),
}


LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600


def init_babel(app):
    """Attach Flask-Babel with imflask's locale selector to ``app``."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LOCALE"])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_request_locale)
    app.context_processor(lambda: {"current_locale": page_locale()})
    app.after_request(remember_page_locale)


def remember_page_locale(response):
    """Keep a page's ``?locale=`` choice in the ``locale`` cookie, so the next pages follow it.

    Only HTML pages set the cookie, so a widget on a customer's site that
    requests its strings in another language changes nothing here.
    """
    chosen = _match(request.args.get("locale"))
    if chosen and response.mimetype == "text/html" and request.cookies.get("locale") != chosen:
        response.set_cookie("locale", chosen, max_age=LOCALE_COOKIE_MAX_AGE, samesite="Lax")
    return response


def page_locale():
    """Return the locale of the current page as clients spell it (``zh_CN`` or ``en``), not as Babel does."""
    return _match(str(get_locale())) or current_app.config["DEFAULT_LOCALE"]


def negotiate_locale(requested=None, accept_languages=None):
    """Return the supported locale for an explicit request or Accept-Language."""
    explicit = _match(requested)
    if explicit:
        return explicit

    if accept_languages is not None:
        best = accept_languages.best_match(("zh-CN", "zh", "en"))
        if best:
            return "en" if best == "en" else "zh_CN"

    return current_app.config["DEFAULT_LOCALE"]


def select_request_locale():
    """Flask-Babel's selector for HTTP pages."""
    requested = request.args.get("locale") or request.cookies.get("locale")
    return negotiate_locale(requested, request.accept_languages)


def error_body(code, locale, params=None, detail=None):
    """Return the protocol's error object with the message in ``locale``."""
    values = {"detail": detail or ""}
    values.update(params or {})
    with force_locale(locale):
        message = str(ERROR_MESSAGES.get(code, ERROR_MESSAGES["internal_error"]) % values)
    return {"code": code, "message": message}


def _match(requested):
    if not isinstance(requested, str):
        return None
    normalized = requested.replace("-", "_").lower()
    if normalized in ("zh", "zh_cn", "zh_hans", "zh_hans_cn"):
        return "zh_CN"
    if normalized.startswith("en"):
        return "en"
    return None
