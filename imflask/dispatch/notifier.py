"""The one thing the service needs from the transport: deliver an event to a user."""

from typing import Protocol


class Notifier(Protocol):
    """Delivers server events to every connection of a uid, on any worker."""

    def to_user(self, uid, event, data, *, skip_sid=None):
        """Send ``event`` with ``data`` to each connection of ``uid`` except ``skip_sid``."""

    def to_role(self, role, event, data):
        """Send ``event`` with ``data`` to every connection of every user with ``role``."""
