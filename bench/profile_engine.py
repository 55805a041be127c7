"""Profile the stages of a full determination on one BOM file (where does the time go?).

    .venv/bin/python bench/profile_engine.py bench/out/bom-1000000-s20240301-g1.json
    .venv/bin/python bench/profile_engine.py FILE --profiler cprofile --top 25
    .venv/bin/python bench/profile_engine.py FILE --gc-report
    .venv/bin/python bench/profile_engine.py FILE --exact      # the exact reader instead

Profiles three stages separately — ``parse`` (`parse_bom_json`, which pauses the garbage
collector itself), ``determine`` and ``output`` (with the collector paused, as `tmec rvc`
pauses it) — with pyinstrument (sampling, low overhead; `pip install pyinstrument`) or
cProfile (deterministic, inflates call-heavy code by ~1.5-2x but gives exact call counts).
``--gc-report`` also counts collections and the time spent in them per stage.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class GcTimer:
    """Accumulates the time the cyclic collector spends, per generation."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.perf_counter() - self._start
            self.count[generation] += 1

    def reset(self) -> str:
        text = ", ".join(f"gen{g}: {n} x = {s:.2f} s"
                         for g, (n, s) in enumerate(zip(self.count, self.seconds, strict=True)))
        self.seconds, self.count = [0.0, 0.0, 0.0], [0, 0, 0]
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--profiler", choices=("pyinstrument", "cprofile", "none"),
                        default="pyinstrument")
    parser.add_argument("--top", type=int, default=15, help="cProfile: rows per stage")
    parser.add_argument("--gc-report", action="store_true")
    parser.add_argument("--exact", action="store_true",
                        help="parse with the exact reader instead of parse_bom_json")
    args = parser.parse_args(argv)

    from origin_rules import determine_origin, reader

    gc_timer = GcTimer()
    if args.gc_report:
        gc.callbacks.append(gc_timer)

    def profiled(stage: str, call: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        if args.profiler == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.001)
            profiler.start()
            result = call()
            profiler.stop()
            report = profiler.output_text(unicode=False, color=False, show_all=False)
        elif args.profiler == "cprofile":
            profile = cProfile.Profile()
            result = profile.runcall(call)
            buffer = io.StringIO()
            stats = pstats.Stats(profile, stream=buffer)
            stats.sort_stats("tottime").print_stats(args.top)
            report = buffer.getvalue()
        else:
            result, report = call(), ""
        elapsed = time.perf_counter() - started
        print(f"===== {stage}: {elapsed:.2f} s"
              + (f" (gc: {gc_timer.reset()})" if args.gc_report else ""))
        print(report)
        return result

    held = {"data": args.file.read_bytes()}  # released by the parse, as in `tmec rvc`
    if args.exact:
        # The exact reader alone: what documents outside the fast path cost (with the
        # collector paused, as parse_bom_json pauses it around either reader).
        def exactly() -> Any:
            gc.disable()
            try:
                return reader.read_json_exactly(held.pop("data"))
            finally:
                gc.enable()

        bom = profiled("parse (exact reader)", exactly)
    else:
        bom = profiled("parse", lambda: reader.parse_bom_json(held.pop("data")))
    enabled = gc.isenabled()
    gc.disable()  # as `tmec rvc` does
    try:
        determination = profiled("determine", lambda: determine_origin(bom))
        profiled("output", lambda: json.dumps(determination.to_dict(), indent=2))
    finally:
        if enabled:
            gc.enable()
    return 0


if __name__ == "__main__":
    sys.exit(main())
