"""`make bench`: every benchmark, or those named in ONLY (comma-separated), a table of figures
and `bench/results/latest.json`.

Each figure is a ratio (or a count) against a baseline measured in the same run, never an
absolute number: the machine's load is recorded beside it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import psutil

from bench import freshness, google, ingest, latency, sync
from bench.common import Figure

RESULTS = Path(__file__).with_name("results")

BENCHMARKS: dict[str, Callable[[set[str]], list[Figure]]] = {
    # One set of 1,000 distinct keys serves both the worker's rate and the calls per key.
    "worker": lambda names: sync.run_distinct(calls="calls" in names, worker=True),
    "calls": lambda names: [
        *([] if "worker" in names else sync.run_distinct(calls=True, worker=False)),
        *sync.run_storm(),
        *sync.run_day(),
    ],
    "ingest": lambda names: ingest.run(),
    "latency": lambda names: latency.run(),
    "freshness": lambda names: freshness.run(),
    "google": lambda names: google.run(),
}


def machine() -> dict[str, object]:
    model = platform.processor() or platform.machine()
    with_model = Path("/proc/cpuinfo")
    if with_model.exists():
        for line in with_model.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def run(names: list[str]) -> dict[str, object]:
    record: dict[str, object] = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "benchmarks": {},
    }
    benchmarks: dict[str, object] = {}
    for name in names:
        print(f"== {name}", flush=True)
        load_before = os.getloadavg()[0]
        psutil.cpu_percent()
        started = time.monotonic()
        try:
            figures = BENCHMARKS[name](set(names))
            error = None
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            figures, error = [], f"{type(exc).__name__}: {exc}"
        benchmarks[name] = {
            "seconds": round(time.monotonic() - started, 1),
            "cpu_busy": round(psutil.cpu_percent() / 100, 2),
            "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "error": error,
            "figures": [_jsonable(figure) for figure in figures],
        }
        for figure in figures:
            print(f"   {_row(figure)}", flush=True)
    record["benchmarks"] = benchmarks
    return record


def _jsonable(figure: Figure) -> dict[str, object]:
    values = dataclasses.asdict(figure)
    values["value"] = None if math.isnan(figure.value) else round(figure.value, 4)
    return values


def _verdict(met: object) -> str:
    return {True: "met", False: "MISSED", None: "-"}[met]  # type: ignore[index]


def _row(figure: Figure | dict[str, object]) -> str:
    values = figure if isinstance(figure, dict) else _jsonable(figure)
    value = values["value"]
    shown = "n/a" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)
    return (
        f"{values['name']:<58.58} {shown:>9} {values['unit']:<9} "
        f"{values['target'] or '':<22.22} {_verdict(values['met']):<6} {values['baseline']}"
    )


def table(record: dict[str, object]) -> str:
    info = record["machine"]
    assert isinstance(info, dict)
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, "
        f"Python {info['python']}, {info['system']}",
        f"{'figure':<58} {'value':>9} {'unit':<9} {'target':<22} {'':<6} baseline (same run)",
    ]
    benchmarks = record["benchmarks"]
    assert isinstance(benchmarks, dict)
    for name, result in benchmarks.items():
        lines.append(
            f"-- {name}: {result['seconds']} s, CPU busy {result['cpu_busy']:.0%}, "
            f"load average {result['load_average_1m'][0]} -> {result['load_average_1m'][1]}"
            + (f", FAILED: {result['error']}" if result["error"] else "")
        )
        lines += [_row(figure) for figure in result["figures"]]
    lines.append("Details (load, and the measured reason for each missed target):")
    for result in benchmarks.values():
        lines += [f"  {f['name']}: {f['detail']}" for f in result["figures"] if f["detail"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default=os.environ.get("ONLY", ""), help="e.g. freshness,calls")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    wanted = {n.strip() for n in args.only.split(",") if n.strip()} or set(BENCHMARKS)
    unknown = sorted(wanted - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; known: {', '.join(BENCHMARKS)}")
    record = run([name for name in BENCHMARKS if name in wanted])
    print("\n" + table(record), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nwritten to {args.output}", flush=True)


if __name__ == "__main__":
    main()
