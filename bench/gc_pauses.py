"""An imflask plugin module for benchmarks: log the garbage collections that pause the server.

Load it with ``IMFLASK_PLUGINS=bench.gc_pauses``; ``python wsgi.py`` finds
the module because the repository root is on its path. It has no hooks.
Every collection that takes longer than 5 ms is logged at WARNING with its
generation, its duration and the number of objects in that generation.

With ``IMFLASK_BENCH_GC_FREEZE=1`` it also runs ``gc.collect()`` and
``gc.freeze()`` when imflask loads it, which moves every object that exists
at that moment out of reach of later collections. That tries the change
proposed in docs/benchmarks.md without editing imflask. Plugins load in
the middle of ``create_app``, so the objects created after them (Socket.IO
server, routes) are still scanned.

Example, from the repository root::

    IMFLASK_PLUGINS=bench.gc_pauses .venv/bin/python -m bench.relay \\
        --servers imflask --rate 500 --duration 5 --keep-logs
"""

import gc
import logging
import os
import time

logger = logging.getLogger(__name__)

PAUSE_THRESHOLD_MS = 5.0

_started = None


def _on_collection(phase, info):
    global _started
    if phase == "start":
        _started = time.perf_counter()
        return
    if _started is None:
        return

    pause_ms = (time.perf_counter() - _started) * 1000
    if pause_ms > PAUSE_THRESHOLD_MS:
        generation = info["generation"]
        logger.warning(
            "gc pause: generation %d took %.1f ms, %d objects left in it, %d collected",
            generation, pause_ms, len(gc.get_objects(generation)), info["collected"],
        )


gc.callbacks.append(_on_collection)

if os.environ.get("IMFLASK_BENCH_GC_FREEZE") == "1":
    gc.collect()
    gc.freeze()
    logger.warning("gc.freeze(): %d objects moved out of the collector's reach", gc.get_freeze_count())
