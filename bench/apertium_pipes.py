"""Apertium per call: one `apertium -f txt` process tree per mode per batch (the old provider) against the
pipelines kept running (providers/apertium_pipes.py, docs/adr/0048-apertium-pipelines-kept-running.md).

The texts are the buyer texts of bench/data/cs_segments.jsonl in their own languages, translated the way the
worker translates them for an English-speaking team (es, fr, pt, it -> en; en -> es: Apertium composes fr, pt
and it through Spanish), two texts of one language per call, in the file's order. Three ways, in alternating
rounds in this one process:

- old: `apertium -u -f txt -d <data> <mode>` per mode per call, the texts as one document (the code before
  ADR 0048, reproduced here as the baseline);
- new, none kept: the provider with APERTIUM_KEEP_PIPELINES=0 (a pipeline started and closed per mode per call);
- new, kept: the provider as the worker runs it (pipelines kept).

Printed per way: wall time per call (median and p95) and CPU per call, this process's and the Apertium
processes' (kept pipelines: started by one untimed call per language, their CPU read from /proc around the
timed calls, the steady state; "incl. start/stop" adds starting and stopping them, spread over the calls;
the other ways' processes are reaped children), the ratio to old, and how many texts come out differently
when translated with the text before them in their call than alone (old: one document per call; new: each
text its own sentence).

  .venv/bin/python bench/apertium_pipes.py                 # 3 rounds of 60 calls
  .venv/bin/python bench/apertium_pipes.py --calls 120 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aftersales.language.providers import apertium_pipes  # noqa: E402
from aftersales.language.providers.apertium import MODES_DIR, ApertiumProvider, routes  # noqa: E402

TARGET = {"es": "en", "fr": "en", "pt": "en", "it": "en", "en": "es"}
CLOCK = os.sysconf("SC_CLK_TCK")


def calls_from_segments(limit: int) -> list[tuple[str, list[str]]]:
    by_lang: dict[str, list[str]] = {}
    for line in (ROOT / "bench" / "data" / "cs_segments.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["source"] in TARGET and row["kind"] == "buyer":
            by_lang.setdefault(row["source"], []).append(row["text"])
    calls: list[tuple[str, list[str]]] = []
    while len(calls) < limit and any(by_lang.values()):
        for lang, texts in by_lang.items():
            if texts and len(calls) < limit:
                calls.append((lang, texts[:2]))
                del texts[:2]
    return calls


def old_translate(texts: list[str], source: str, target: str) -> list[str]:
    """The provider before ADR 0048: every mode of the route one `apertium` process, the texts one document."""
    lines: list[str] = []
    counts: list[int] = []
    for text in texts:
        parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines += parts
        counts.append(len(parts))
    document = "\n".join(lines)
    for mode in routes()[(source, target)]:
        done = subprocess.run(
            [shutil.which("apertium") or "apertium", "-u", "-f", "txt", "-d", str(MODES_DIR.parent), mode],
            input=document + "\n",
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
            check=True,
        )
        document = done.stdout[:-1] if done.stdout.endswith("\n") else done.stdout
    out = document.split("\n")
    result, pos = [], 0
    for count in counts:
        result.append("\n".join(line.strip() for line in out[pos : pos + count]))
        pos += count
    return result


def group_cpu_seconds(pids: list[int]) -> float:
    total = 0
    for leader in pids:
        found = subprocess.run(["pgrep", "-g", str(leader)], capture_output=True, text=True).stdout.split()
        for pid in found:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK


def run_way(way: str, calls: list[tuple[str, list[str]]], provider: ApertiumProvider) -> dict[str, float]:
    """Per call: wall time, this process's CPU, the Apertium processes' CPU. Kept pipelines are started by one
    untimed call per language first, and their CPU read from /proc around the timed calls (steady state);
    `apertium_all_ms` adds what starting and stopping them cost (their reaped CPU), spread over the calls."""
    pool = apertium_pipes.POOL
    pool.close_all()
    pool.configure(max_kept=4 if way == "kept" else 0)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    if way == "kept":
        for lang in sorted({lang for lang, _ in calls}):
            provider.translate_batch(["Hola"], lang, TARGET[lang])
    kept_before = group_cpu_seconds([p.pid for p in pool.kept()]) if way == "kept" else 0.0
    walls: list[float] = []
    self_before = time.process_time()
    for lang, texts in calls:
        started = time.perf_counter()
        if way == "old":
            old_translate(texts, lang, TARGET[lang])
        else:
            provider.translate_batch(texts, lang, TARGET[lang])
        walls.append(time.perf_counter() - started)
    self_cpu = time.process_time() - self_before
    kept_cpu = group_cpu_seconds([p.pid for p in pool.kept()]) - kept_before if way == "kept" else 0.0
    pool.close_all()
    time.sleep(0.3)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = (children_after.ru_utime + children_after.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    n = len(calls)
    walls.sort()
    return {
        "wall_p50_ms": statistics.median(walls) * 1000,
        "wall_p95_ms": walls[int(0.95 * (n - 1))] * 1000,
        "self_cpu_ms": self_cpu / n * 1000,
        "apertium_cpu_ms": (kept_cpu if way == "kept" else reaped) / n * 1000,
        "apertium_all_ms": reaped / n * 1000,
    }


def context_changes(calls: list[tuple[str, list[str]]], provider: ApertiumProvider) -> tuple[int, int, int]:
    """Texts (the second of each call) whose translation differs with the first text before it vs alone."""
    old = new = total = 0
    apertium_pipes.POOL.configure(max_kept=4)
    for lang, texts in calls:
        if len(texts) < 2:
            continue
        total += 1
        target = TARGET[lang]
        old += old_translate(texts, lang, target)[1] != old_translate(texts[1:], lang, target)[0]
        new += provider.translate_batch(texts, lang, target)[1] != provider.translate_batch(texts[1:], lang, target)[0]
    apertium_pipes.POOL.close_all()
    return old, new, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    provider = ApertiumProvider()
    calls = calls_from_segments(args.calls)
    print(f"{len(calls)} calls of up to 2 buyer texts (es/fr/pt/it -> en, en -> es); {os.cpu_count()} cores")
    results: dict[str, list[dict[str, float]]] = {"old": [], "none kept": [], "kept": []}
    for round_no in range(args.rounds):
        for way in list(results) if round_no % 2 == 0 else list(reversed(results)):
            results[way].append(run_way(way, calls, provider))
    base = {k: statistics.median(r[k] for r in results["old"]) for k in results["old"][0]}
    base_total = base["self_cpu_ms"] + base["apertium_cpu_ms"]
    print(
        f"{'way':<10} {'wall p50':>9} {'wall p95':>9} {'cpu self':>9} {'cpu apertium':>13} {'cpu total':>10}"
        f" {'x old':>7} {'incl. start/stop':>17}"
    )
    for way, rows in results.items():
        m = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        total = m["self_cpu_ms"] + m["apertium_cpu_ms"]
        print(
            f"{way:<10} {m['wall_p50_ms']:>7.1f}ms {m['wall_p95_ms']:>7.1f}ms {m['self_cpu_ms']:>7.2f}ms"
            f" {m['apertium_cpu_ms']:>11.1f}ms {total:>8.1f}ms {total / base_total:>7.3f}"
            f" {m['self_cpu_ms'] + m['apertium_all_ms']:>15.1f}ms"
        )
    old, new, total = context_changes(calls, provider)
    print(f"second text of a call translated differently than alone: old {old} of {total}, new {new} of {total}")


if __name__ == "__main__":
    main()
