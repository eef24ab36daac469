#!/usr/bin/env python3
"""The lint benchmark: whole-process time and peak memory of `pexspec lint`.

    python3 bench/lint.py [--runs N]

Builds pexspec (release) and a trivial Rust binary, generates the large specs (1x, 4x, 16x)
with gen_spec.py, and prints a Markdown table: min and median wall time over N runs, and peak
resident memory, each process started the same way. Figures belong in book/src/performance.md.
"""
import argparse
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_once(cmd):
    """Wall time, CPU time (user + system) and peak RSS (KiB) of one run, the process's own:
    measured with os.wait4 on the child, so neither Python nor other processes count."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def measure(name, cmd, runs):
    for _ in range(2):
        run_once(cmd)
    samples = [run_once(cmd) for _ in range(runs)]
    walls = sorted(s[0] for s in samples)
    cpus = sorted(s[1] for s in samples)
    rss = max(s[2] for s in samples)
    return name, walls[0] * 1e3, statistics.median(walls) * 1e3, statistics.median(cpus) * 1e3, rss / 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=30)
    a = p.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "pexspec"], cwd=ROOT, check=True)
    pexspec = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "pexspec")
    tmp = tempfile.mkdtemp(prefix="pexspec-bench-")
    hello_src = os.path.join(tmp, "hello.rs")
    with open(hello_src, "w") as f:
        f.write('fn main() { println!("hello"); }\n')
    hello = os.path.join(tmp, "hello")
    subprocess.run(["rustc", "-O", "-o", hello, hello_src], check=True)
    rows = [measure("trivial Rust binary (floor)", [hello], a.runs)]
    rows.append(measure("lint specs/zurich-frankfurt.yaml", [pexspec, "lint", os.path.join(ROOT, "specs/zurich-frankfurt.yaml")], a.runs))
    sizes = {}
    for scale in (1, 4, 16):
        spec = os.path.join(tmp, f"bench-{scale}x.yaml")
        subprocess.run([sys.executable, os.path.join(ROOT, "bench/gen_spec.py"), spec, "--scale", str(scale)], check=True)
        sizes[scale] = os.path.getsize(spec)
        runs = max(3, a.runs // scale)
        rows.append(measure(f"lint {scale}x ({2000*scale} nodes, {10000*scale} rooms, {sizes[scale]//1024} KiB)", [pexspec, "lint", spec], runs))
    print(f"load average before the run: {os.getloadavg()[0]:.2f}")
    print("| command | min wall ms | median wall ms | median CPU ms | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for name, lo, med, cpu, rss in rows:
        print(f"| {name} | {lo:.1f} | {med:.1f} | {cpu:.1f} | {rss:.1f} |")
    print(f"\nzurich-frankfurt / floor (min wall): {rows[1][1] / rows[0][1]:.2f}x, (median wall): {rows[1][2] / rows[0][2]:.2f}x")
    base = rows[2][3]
    for (scale, row) in zip((1, 4, 16), rows[2:]):
        nlogn = scale * math.log(2000 * scale) / math.log(2000)
        print(f"{scale}x: CPU {row[3] / base:.2f}x the 1x CPU time (n log n: {nlogn:.2f}x, linear: {scale}x)")


if __name__ == "__main__":
    main()
