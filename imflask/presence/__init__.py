"""Presence: which uids have a live connection, and since when the others left.

Counts live in Redis so that every worker agrees. Each worker keeps its own
count per uid and a heartbeat; when a worker dies without running its
disconnect handlers, its heartbeat stops, and any worker's sweep removes
its counts as if its connections had closed. A uid whose last connection
closed goes into an "offline since" sorted set per role, which the sweep
reads to end reconnect grace periods.
"""

from imflask.presence.tracker import PresenceTracker

__all__ = ["PresenceTracker"]
