"""How `docgen batch` scales from 1 worker to N, in interleaved rounds, with CPU time.

    .venv/bin/python bench/scaling.py [--plans 600] [--notes 1200] [--workers 1,2] [--rounds 3]

Each round runs the real batch (both formats, a fresh process each, as ``docgen batch`` runs) once per
worker count, the order turning each round, on the bench's synthetic plans and notes (bench/bench.py).
It prints for each run the wall-clock seconds, the main process's CPU seconds and the workers' CPU
seconds, and per round the speed-up over 1 worker; then the median (min-max) of the speed-ups. On a
machine shared with other work the wall clock moves with the load (printed with each run): the CPU
seconds say what each process did, and the main process's share is what caps the speed-up (on two
cores, a main process taking a fraction f of the workers' CPU caps two workers at 2 / (1 + f)).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench import synthesize  # noqa: E402

_RUN = """
import json, resource, sys, time
from datetime import date
from pathlib import Path
from docgen import api
inputs, out, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
started, cpu = time.perf_counter(), time.process_time()
summary = api.batch([inputs], out, workers=workers, formats=("docx", "pdf"), as_of=date(2026, 11, 24), force=True)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - started, "main": time.process_time() - cpu,
                  "workers": children.ru_utime + children.ru_stime,
                  "done": summary.counts["final"] + summary.counts["draft"]}))
"""


#: The runs' environment: as an installed docgen runs, with Python's bytecode cache. A development
#: environment that sets PYTHONDONTWRITEBYTECODE makes each run compile the modules the batch imports
#: after its clock starts (the renderers, the batch runner), serial work that cost 2 workers about 0.1x.
INSTALLED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(inputs: Path, out: Path, workers: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)  # every run the same work: a new folder and audit trail
    done = subprocess.run([sys.executable, "-c", _RUN, str(inputs), str(out), str(workers)],  # noqa: S603
                          capture_output=True, text=True, check=True, cwd=ROOT, env=INSTALLED)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["load"] = os.getloadavg()[0]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=600)
    parser.add_argument("--notes", type=int, default=1200)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    counts = sorted({int(w) for w in args.workers.split(",")})
    with tempfile.TemporaryDirectory(prefix="docgen-scaling-") as work:
        plans, notes = synthesize(Path(work) / "in", args.plans, args.notes)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "docgen")],  # noqa: S603
                       check=True, env=INSTALLED)  # not timed: the bytecode cache the timed runs read
        for kind, path in (("plans", plans), ("notes", notes)):
            speedups: dict[int, list[float]] = {n: [] for n in counts[1:]}
            shares = []
            for r in range(args.rounds):
                order = counts if r % 2 == 0 else counts[::-1]
                figures = {n: run(path, Path(work) / "out", n) for n in order}
                for n in order:
                    f = figures[n]
                    shares.append(f["main"] / f["workers"])
                    print(f"{kind} round {r + 1} workers={n}: {f['done'] / f['seconds']:6.1f} records/s, "
                          f"{f['seconds']:5.2f} s, main CPU {f['main']:.2f} s, workers' CPU {f['workers']:.2f} s "
                          f"(load {f['load']:.1f})")
                for n in counts[1:]:
                    speedups[n].append(figures[counts[0]]["seconds"] / figures[n]["seconds"])
            for n, values in speedups.items():
                print(f"{kind}: {n} workers vs {counts[0]}: {statistics.median(values):.2f}x "
                      f"({min(values):.2f}-{max(values):.2f}); main process CPU / workers' CPU "
                      f"{statistics.median(shares):.1%} ({min(shares):.1%}-{max(shares):.1%})")


if __name__ == "__main__":
    main()
