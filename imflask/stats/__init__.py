"""Per-agent performance figures computed from transcripts; docs/statistics.md defines each one."""

from imflask.stats.figures import FIGURES, AgentFigures, compute_figures

__all__ = ["FIGURES", "AgentFigures", "compute_figures"]
