"""The chat service: the rules of a conversation, with no Socket.IO types.

:class:`ChatService` receives already-validated requests from the event
handlers, drives the allocation strategy and the history store, calls the
plugin hooks, and sends notifications through a :class:`Notifier`.
"""

from imflask.dispatch.notifier import Notifier
from imflask.dispatch.service import ChatService

__all__ = ["ChatService", "Notifier"]
