#!/usr/bin/env python3
"""The apply benchmark: `pexspec apply --sim` wall time against the critical path.

    python3 bench/apply.py [--speed 60] [--only three|200] [--keep]

Builds pexspec (release) once. For each spec (the three-region mesh of the CLI's tests, and a
200-Conferencing-Node spec from gen_spec.py: 10 regions, 50 rooms), in a fresh copy each time
(the simulators keep their state beside the spec):

1. `pexspec apply SPEC --sim --sim-speed S --sim-faults LATENCIES --auto-approve --output json`
   (pexspec's walk: critical path first, waits hold no slot);
2. the same in a fresh copy with `PEXSPEC_WALK=terraform-like` and `--parallelism 10` (a pool of ten slots,
   each held through the resource's waits, in plain topological order: how Terraform walks);
3. after run 1, the same command again: a no-op apply, whose `sim_calls` event gives the API
   calls of a no-op plan.

The critical path is computed here from the run's *actual* step durations (`step_finished`'s
`duration_ms`), summed along the longest chain of the plan's `depends_on`: the bound no
executor could beat with those same durations. The ratio is the executor's wall time (the
`summary` report's `wall_time_ms`, from its first step to its last) over that bound.

Every simulated duration is divided by the speed S: the OCI simulator's lifecycle times (an
image import takes 22 minutes, a launch one minute), the Management Node simulator's node
sync (5 minutes), and the executor's estimates, polls and rate limits (`--sim` scales them in
crates/pexspec/src/world.rs). The latencies of the calls themselves are injected by the OCI
simulator (`latency_ms`, real milliseconds): LATENCY below holds typical OCI latencies and the
injected value is that divided by S, so that a call is to a lifecycle wait as in OCI. The
Pexip simulator injects none. Prints Markdown; figures belong in book/src/performance.md.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Typical latency of each OCI call, in milliseconds of OCI time (our figures, not OCI's: reads
# a few hundred milliseconds, creates somewhat more, a launch over a second, the upload of a
# multi-gigabyte OVA file two minutes, as pexspec's own estimate). "*": every other call.
LATENCY = {
    "*": 150,
    "GetNamespace": 100,
    "HeadObject": 100,
    "ListAvailabilityDomains": 200,
    "ListBuckets": 250, "ListCompartments": 250, "ListDrgAttachments": 250, "ListDrgs": 250,
    "ListImageShapeCompatibilityEntries": 250, "ListImages": 250, "ListInstances": 250,
    "ListInternetGateways": 250, "ListObjects": 250, "ListPrivateIps": 250,
    "ListPublicIps": 250, "ListRemotePeeringConnections": 250, "ListRouteTables": 250,
    "ListSecurityLists": 250, "ListSubnets": 250, "ListVcns": 250, "ListVnicAttachments": 250,
    "CreateCompartment": 1000,
    "CreateBucket": 300,
    "PutObject": 120_000,
    "CreateImage": 800,
    "AddImageShapeCompatibilityEntry": 300,
    "CreateVcn": 400, "CreateSubnet": 400, "CreateInternetGateway": 400,
    "CreateRouteTable": 400, "CreateSecurityList": 400, "CreatePublicIp": 400,
    "CreateDrg": 500, "CreateDrgAttachment": 500, "CreateRemotePeeringConnection": 400,
    "ConnectRemotePeeringConnections": 500,
    "LaunchInstance": 1500,
}

# The resource kind each no-op list call looks for, and whether it is one call per region
# (else one for the whole stack, in the home region), or one per resource of `per`.
LISTS = {
    "ListCompartments": ("compartment", "stack"),
    "ListBuckets": ("bucket", "stack"),
    "ListObjects": ("object", "stack"),
    "ListImages": ("image", "region"),
    "ListImageShapeCompatibilityEntries": ("image_shape", "image"),
    "ListInstances": ("instance", "region"),
    "ListVnicAttachments": ("instance", "region"),
    "ListPrivateIps": ("instance", "region"),
    "ListPublicIps": ("public_ip", "region"),
    "ListVcns": ("vcn", "region"),
    "ListSubnets": ("subnet", "region"),
    "ListInternetGateways": ("internet_gateway", "region"),
    "ListRouteTables": ("route_table", "region"),
    "ListSecurityLists": ("security_list", "region"),
    "ListDrgs": ("drg", "region"),
    "ListDrgAttachments": ("drg_attachment", "region"),
    "ListRemotePeeringConnections": ("rpc", "region"),
}
OCI_PAGE = 100  # OCI's default page size, which the client uses

PEXIP_KINDS = {"management_bootstrap", "dns_server", "ntp_server", "licence", "system_location",
               "tls_certificate", "conference", "conference_alias", "worker_vm", "node_bootstrap"}


def run(cmd, cwd, env=None):
    """Runs `cmd`; returns its exit code, JSON events, stderr, wall seconds and CPU seconds
    (user + system of the process, which runs both simulators: from wait4)."""
    out_path = os.path.join(cwd, ".bench-out.json")
    err_path = os.path.join(cwd, ".bench-err.txt")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err,
                                env=None if env is None else {**os.environ, **env})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    events = []
    with open(out_path) as f:
        for line in f:
            line = line.strip()
            if line:
                events.append(json.loads(line))
    with open(err_path) as f:
        stderr = f.read()
    return code, events, stderr, wall, usage.ru_utime + usage.ru_stime


def the(events, name):
    found = [e for e in events if e.get("event") == name]
    return found[-1] if found else None


def critical_path(plan, report):
    """The longest chain of actual step durations along the plan's `depends_on`."""
    steps = {s["address"]: s for s in report["steps"]}
    deps = {c["address"]: c.get("depends_on", []) for c in plan["changes"]}
    order, seen = [], set()
    for root in deps:  # iterative DFS post-order: dependencies before dependents
        stack = [(root, False)]
        while stack:
            a, done = stack.pop()
            if done:
                order.append(a)
                continue
            if a in seen:
                continue
            seen.add(a)
            stack.append((a, True))
            stack.extend((d, False) for d in deps.get(a, []) if d not in seen)
    finish, prev = {}, {}
    for a in order:
        before = max(((finish.get(d, 0), d) for d in deps.get(a, []) if d in deps), default=(0, None))
        s = steps.get(a)
        finish[a] = before[0] + (s["duration_ms"] if s else 0)
        prev[a] = before[1]
    end = max(finish, key=finish.get)
    chain = []
    while end is not None:
        chain.append(end)
        end = prev[end]
    chain.reverse()
    return finish[chain[-1]], [(a, steps[a]["duration_ms"] if a in steps else 0) for a in chain]


def stalls(plan, report):
    """Where the wall time beyond the critical path went: for the step that finished last,
    walked back through the dependency that finished last, the time each step waited after
    that dependency ended (slot, rate limit, coordinator). Sum and the three largest."""
    steps = {s["address"]: s for s in report["steps"]}
    deps = {c["address"]: c.get("depends_on", []) for c in plan["changes"]}
    started = [s for s in report["steps"] if s.get("started_at_ms") is not None]
    last = max(started, key=lambda s: s["started_at_ms"] + s["duration_ms"])
    a, total, gaps = last["address"], 0, []
    while a:
        s = steps[a]
        ends = [(steps[d]["started_at_ms"] + steps[d]["duration_ms"], d) for d in deps.get(a, [])
                if d in steps and steps[d].get("started_at_ms") is not None]
        end, d = max(ends, default=(0, None))
        gap = s["started_at_ms"] - end
        total += gap
        gaps.append((gap, a))
        a = d
    gaps.sort(reverse=True)
    return total, gaps[:3]


def apply_once(pexspec, spec_dir, spec, faults, speed, extra, env=None):
    cmd = [pexspec, "apply", spec, "--sim", "--sim-speed", str(speed), "--sim-faults", faults,
           "--auto-approve", "--format", "json"] + extra
    code, events, stderr, wall, cpu = run(cmd, spec_dir, env)
    if code != 0:
        sys.exit(f"`{' '.join(cmd)}` exited {code}:\n{stderr[-3000:]}")
    plan, summary = the(events, "plan"), the(events, "summary")
    if plan is None or summary is None:
        sys.exit(f"`{' '.join(cmd)}`: no plan or summary event")
    report = summary["report"]
    if not (report["failed"] == report["skipped"] == report["not_started"] == 0):
        sys.exit(f"`{' '.join(cmd)}`: the run failed: {report['failures']}")
    cp, chain = critical_path(plan, report)
    gap, top = stalls(plan, report)
    return {
        "plan": plan, "report": report, "process_wall": wall, "cpu": cpu, "cp": cp,
        "chain": chain, "gap": gap, "top_gaps": top, "calls": the(events, "sim_calls"),
        "ratio": report["wall_time_ms"] / cp if cp else float("nan"),
    }


def noop(pexspec, spec_dir, spec, faults, speed):
    cmd = [pexspec, "apply", spec, "--sim", "--sim-speed", str(speed), "--sim-faults", faults,
           "--auto-approve", "--output", "json"]
    code, events, stderr, wall, cpu = run(cmd, spec_dir)
    if code != 0:
        sys.exit(f"no-op apply exited {code}:\n{stderr[-3000:]}")
    plan, calls = the(events, "plan"), the(events, "sim_calls")
    changed = [c["address"] for c in plan["changes"] if c["action"] != "noop" or c.get("pending")]
    if changed:
        sys.exit(f"the second apply is not a no-op: {changed[:10]}")
    return plan, calls, wall


def secs(ms):
    return f"{ms / 1000:.2f} s"


def prepare(kind, tmp, name):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    if kind == "three":
        for sub in ("keys", "certs"):
            shutil.copytree(os.path.join(ROOT, "specs", sub), os.path.join(d, sub))
        shutil.copy(os.path.join(ROOT, "crates/pexspec/tests/fixtures/three-regions.yaml"), d)
        return d, "three-regions.yaml"
    subprocess.run([sys.executable, os.path.join(ROOT, "bench/gen_spec.py"), os.path.join(d, "bench.yaml"),
                    "--regions", "10", "--nodes", "200", "--rooms", "50", "--ssh-password"], check=True)
    return d, "bench.yaml"


def noop_table(label, plan, calls):
    changes = plan["changes"]
    regions = plan["regions"]
    by_kind = Counter(c["kind"] for c in changes)
    per_region = defaultdict(Counter)
    for c in changes:
        per_region[c["kind"]][c.get("region")] += 1
    oci = calls["oci"]
    oci_resources = sum(n for k, n in by_kind.items() if k not in PEXIP_KINDS)
    pexip_resources = sum(n for k, n in by_kind.items() if k in PEXIP_KINDS)
    lines = [f"\n#### No-op apply, {label}: {len(changes)} resources ({oci_resources} OCI, "
             f"{pexip_resources} Pexip), {len(regions)} regions\n",
             "| OCI operation | calls | bound (one per kind and region, plus pages) | resources it covers |",
             "|---|---:|---:|---:|"]
    over = []
    for op in sorted(oci):
        n = oci[op]
        if op in LISTS:
            kind, scope = LISTS[op]
            counts = per_region[kind]
            if scope == "stack":
                bound = max(1, math.ceil(by_kind[kind] / OCI_PAGE))
            elif scope == "image":
                bound = by_kind["image"]
            else:
                bound = sum(max(1, math.ceil(counts.get(r, 0) / OCI_PAGE)) for r in regions)
            covered = by_kind[kind]
            note = " (one per image: the API lists one image's shapes)" if scope == "image" else ""
        else:
            bound, covered, note = "—", "—", " (not a list)"
        if isinstance(bound, int) and n > bound:
            over.append(op)
        lines.append(f"| `{op}`{note} | {n} | {bound} | {covered} |")
    total = sum(oci.values())
    lists = sum(n for op, n in oci.items() if op.startswith("List"))
    lines.append(f"| **OCI total** | **{total}** | | **{oci_resources}** |")
    lines.append(f"| Pexip reads (GET, pages included) | {calls['pexip_reads']} | | {pexip_resources} |")
    lines.append(f"\nOCI: {total} calls for {oci_resources} resources ({total / oci_resources:.3f} per "
                 f"resource), {lists} of them lists; {total - lists} other reads "
                 f"({', '.join(f'{op} {n}' for op, n in sorted(oci.items()) if not op.startswith('List'))}); "
                 f"{sum(1 for op in oci if not op.startswith(('List', 'Get', 'Head')))} mutating operations. "
                 f"Pexip: {calls['pexip_reads']} reads for {pexip_resources} resources, "
                 f"{calls['pexip_mutations']} mutations. Over the bound: {', '.join(over) or 'none'}.")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--speed", type=float, default=60.0, help="--sim-speed (default 60)")
    p.add_argument("--only", choices=["three", "200"], help="one spec only")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = p.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "pexspec"], cwd=ROOT, check=True)
    pexspec = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "pexspec")
    tmp = tempfile.mkdtemp(prefix="pexspec-apply-bench-")
    faults = os.path.join(tmp, "latencies.json")
    injected = {op: max(1, round(ms / a.speed)) for op, ms in LATENCY.items()}
    with open(faults, "w") as f:
        json.dump({"seed": 1, "latency_ms": injected}, f, indent=1)
    load = os.getloadavg()
    specs = [("three", "three regions, 4 Conferencing Nodes"), ("200", "ten regions, 200 Conferencing Nodes")]
    if a.only:
        specs = [s for s in specs if s[0] == a.only]
    rows, details, noops = [], [], []
    for kind, label in specs:
        d1, spec = prepare(kind, tmp, f"{kind}-pexspec")
        ours = apply_once(pexspec, d1, spec, faults, a.speed, [])
        plan, calls, _ = noop(pexspec, d1, spec, faults, a.speed)
        noops.append(noop_table(label, plan, calls))
        d2, _ = prepare(kind, tmp, f"{kind}-terraform")
        tf = apply_once(pexspec, d2, spec, faults, a.speed, ["--parallelism", "10"],
                        {"PEXSPEC_WALK": "terraform-like"})
        rows.append((label, ours, tf))
        print(f"{label}: pexspec {ours['ratio']:.3f}, terraform-like {tf['ratio']:.3f}", file=sys.stderr)
    print(f"load average before the runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores; speed {a.speed:g}\n")
    print("| spec | steps | critical path (actual durations) | pexspec | ratio | Terraform-like walk (pool of 10) | its critical path | ratio | gain |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, ours, tf in rows:
        steps = len(ours["report"]["steps"])
        print(f"| {label} | {steps} | {secs(ours['cp'])} | {secs(ours['report']['wall_time_ms'])} | "
              f"{ours['ratio']:.3f} | {secs(tf['report']['wall_time_ms'])} | {secs(tf['cp'])} | {tf['ratio']:.2f} | "
              f"{tf['report']['wall_time_ms'] / ours['report']['wall_time_ms']:.1f}× |")
    print("\n| spec | walk | process wall | process CPU | executor wall | OCI calls | Pexip calls | waits after the last dependency, on the last chain |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for label, ours, tf in rows:
        for name, m in (("pexspec", ours), ("terraform-like", tf)):
            c = m["calls"] or {"oci": {}, "pexip_reads": 0, "pexip_mutations": 0}
            top = ", ".join(f"`{x}` {g} ms" for g, x in m["top_gaps"] if g > 0)
            print(f"| {label} | {name} | {m['process_wall']:.2f} s | {m['cpu']:.2f} s | "
                  f"{secs(m['report']['wall_time_ms'])} | {sum(c['oci'].values())} | "
                  f"{c['pexip_reads'] + c['pexip_mutations']} | {m['gap']} ms ({top or 'none'}) |")
    print("\nCritical paths (pexspec's runs, actual durations):\n")
    for label, ours, _ in rows:
        print(f"- {label}: " + " → ".join(f"`{x}` {ms} ms" for x, ms in ours["chain"]))
    print("\n### Injected OCI latencies (ms): typical OCI figure → injected at speed "
          f"{a.speed:g}\n")
    print("| operation | OCI (ms) | injected (ms) |")
    print("|---|---:|---:|")
    for op in sorted(LATENCY, key=lambda o: (o != "*", o)):
        print(f"| `{op}` | {LATENCY[op]:,} | {injected[op]} |")
    print("\n### API calls of a no-op apply")
    for t in noops:
        print(t)
    worst = max(r[1]["ratio"] for r in rows)
    print(f"\ntarget: wall time within 1.10 × the critical path: "
          f"{'met' if worst <= 1.10 else 'NOT met'} (worst {worst:.3f})")
    if a.keep:
        print(f"\nkept: {tmp}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
