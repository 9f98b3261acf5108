"""Benchmarks of imflask beside bare baselines; docs/benchmarks.md lists the commands.

Nothing is imported here: ``python -m bench.baseline_bare`` must monkey
patch before the socket module is loaded.
"""
