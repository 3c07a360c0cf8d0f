"""The fault harness (issue 17): the production topology on loopback (bench/topology.py) and, one after another,
the faults a deployment meets, each with its figures.

- worker_kill_matching: SIGKILL the job worker running a campaign's match; systemd-like restart after 1 s.
- worker_kill_sending: the same at a third of the SMS sent, to the worker with the most connections to the sandbox.
- redis_failover: SENTINEL FAILOVER at a third sent ("not applicable" until the app reads REDIS_SENTINELS).
- redis_restart: the Redis primary stopped 5 s at a third sent, started again from its append-only file.
- pg_restart: PostgreSQL stopped 5 s during a burst of application submissions retried with their Idempotency-Key.
- sigterm_load: SIGTERM to the server's process group during such a burst; restarted 2 s after it exits.

Prints one table: lost, duplicated, uncertain left, 500s (any 5xx but 503), 503s, time to resume (from the end of
the fault to the first progress after it; for SIGTERM from the signal). Exits 1 if lost, duplicated, uncertain or
500s is nonzero anywhere.

    python bench/faults.py [--people 25000] [--only NAME] [--timeout 180] [--keep-logs DIR]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse
import asyncio
import shutil
import time

from bench import fault_campaigns as campaigns
from bench import fault_submissions as submissions
from bench.fault_campaigns import Result
from bench.topology import Topology, app_supports_sentinels, binaries_present

CAMPAIGN_FAULTS = {"worker_kill_matching": campaigns.kill_while_matching,
                   "worker_kill_sending": campaigns.kill_while_sending,
                   "redis_failover": campaigns.redis_failover,
                   "redis_restart": campaigns.redis_restart}
SCENARIOS = [*CAMPAIGN_FAULTS, "pg_restart", "sigterm_load"]
# Senders throttled so that a campaign of a few thousand lasts long enough to strike in the middle of it.
WORKER_ENV = {"PUSH_RATE_SMS": "300", "PUSH_SENDERS": "2"}


async def _scenario(t: Topology, name: str, opts) -> Result:
    if name == "redis_failover" and not t.use_sentinels:
        return Result(name, skipped="not applicable yet: the app does not read REDIS_SENTINELS "
                                    "(api/core/settings.py), it runs against the primary's REDIS_URL")
    if name in CAMPAIGN_FAULTS:
        return await campaigns.run_campaign(t, name=name, fault=CAMPAIGN_FAULTS[name], timeout=opts.timeout)
    run = submissions.pg_restart if name == "pg_restart" else submissions.sigterm_under_load
    return await run(t, clients=opts.clients, per_client=opts.per_client, give_up_s=opts.timeout)


def _cell(v) -> str:
    return "-" if v is None else (f"{v:.1f} s" if isinstance(v, float) else str(v))


def print_table(results: list[Result]) -> None:
    """The table, then each scenario's notes."""
    head = ["scenario", "lost", "duplicated", "uncertain left", "500s", "503s", "time to resume"]
    rows = [[r.name, *(["n/a"] * 6 if r.skipped else ["error"] * 6 if r.error else map(
        _cell, (r.lost, r.duplicated, r.uncertain, r.e500, r.e503, r.resume_s)))] for r in results]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    for line in (head, ["-" * w for w in widths], *rows):
        print(" | ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))
    print()
    for r in results:
        for note in ([r.skipped] if r.skipped else [r.error] if r.error else r.notes):
            print(f"{r.name}: {note}")


def main() -> int:
    """Run the scenarios; 1 if any lost, duplicated, uncertain or 500 is counted."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=25_000, help="population imported for the campaigns")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run this scenario (repeatable)")
    parser.add_argument("--timeout", type=float, default=180, help="seconds a scenario may take to settle")
    parser.add_argument("--clients", type=int, default=16, help="citizens submitting at once")
    parser.add_argument("--per-client", type=int, default=15, help="applications each citizen submits")
    parser.add_argument("--keep-logs", type=Path, help="copy the processes' logs here before the temp dir goes")
    opts = parser.parse_args()
    if not binaries_present():
        print("needs root, a postgres user, /usr/lib/postgresql/15/bin and /usr/bin/redis-server", file=sys.stderr)
        return 2
    names = opts.only or SCENARIOS
    results = []
    started = time.monotonic()
    topology = Topology(sentinels=app_supports_sentinels(), quiet=False)
    try:
        topology.start(WORKER_ENV)
        print(f"topology up in {time.monotonic() - started:.0f} s ({topology.dir})", file=sys.stderr, flush=True)
        if any(n in CAMPAIGN_FAULTS for n in names):
            campaigns.import_population(topology, opts.people)
        for name in names:
            began = time.monotonic()
            try:
                results.append(asyncio.run(_scenario(topology, name, opts)))
            except Exception as e:  # noqa: BLE001 - the harness itself failed: say so in the table, go on
                results.append(Result(name, error=f"harness error: {type(e).__name__}: {e}"))
            print(f"{name} done in {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
    finally:
        if opts.keep_logs:
            opts.keep_logs.mkdir(parents=True, exist_ok=True)
            for log in topology.dir.glob("*.log"):
                shutil.copy(log, opts.keep_logs / log.name)
        topology.stop()
    print_table(results)
    return 1 if any(r.failed() for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
