#!/usr/bin/env python3
"""The lint benchmark: whole-process time and peak memory of `pexspec lint`.

    python3 bench/lint.py [--runs N]

Builds pexspec (release) and a trivial Rust binary, generates the large specs (1x, 4x, 16x)
with gen_spec.py, and prints a Markdown table: min and median wall time over N runs, and peak
resident memory, each process started the same way. Figures belong in book/src/performance.md.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_once(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def peak_rss_kib(cmd):
    """Peak RSS of one run of `cmd`, in KiB, measured in a fresh child so that the maximum
    is this command's alone."""
    code = ("import resource,subprocess,sys;"
            "subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def measure(name, cmd, runs):
    for _ in range(2):
        run_once(cmd)
    times = sorted(run_once(cmd) for _ in range(runs))
    return name, times[0] * 1e3, statistics.median(times) * 1e3, peak_rss_kib(cmd) / 1024


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
    print("| command | min ms | median ms | peak RSS MiB |")
    print("|---|---:|---:|---:|")
    for name, lo, med, rss in rows:
        print(f"| {name} | {lo:.1f} | {med:.1f} | {rss:.1f} |")
    floor = rows[0][2]
    print(f"\nzurich-frankfurt / floor (medians): {rows[1][2] / floor:.2f}x")
    base = rows[2][2]
    for (scale, row) in zip((1, 4, 16), rows[2:]):
        print(f"{scale}x: {row[2] / base:.2f}x the 1x time (n log n would be {scale * (1 + (0 if scale == 1 else __import__('math').log(scale) / __import__('math').log(2000))):.2f}x)")


if __name__ == "__main__":
    main()
