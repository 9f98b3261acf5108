"""Commands of ``flask im`` beyond token and plugins: export, stats and status."""

from imflask.commands.export import export_command
from imflask.commands.stats import stats_command
from imflask.commands.status import status_command

__all__ = ["export_command", "stats_command", "status_command"]
