#!/usr/bin/env python3
"""The image upload benchmark: pexspec's multipart upload against the official OCI CLI.

    python3 bench/upload.py [--tmpdir /dev/shm] [--size-mib 2048] [--runs 3] [--no-build]

Builds pexspec and the `upload_bench` example (release), finds the official CLI (PEXSPEC_OCI_CLI,
else $PEXSPEC_OCI_VENV/bin/oci, else installs it with .ci/install-oci-cli), writes a file of
random bytes in a temporary directory (--tmpdir; it needs twice the file's size), starts one `pexspec sim serve` (state in the same
temporary directory) and uploads the file to one bucket with each client in turn:

- pexspec: `upload_file` with its defaults (unless --part-size-mib / --parallelism);
- oci-cli: `oci os object put --verify-checksum` with its defaults (128 MiB parts, 10 in
  parallel, unless --cli-part-size-mib / --cli-parallelism);
- oci-cli, same parts: the same command with pexspec's part size and parallelism.

The order rotates from one repetition to the next; every upload goes to a new object, deleted
afterwards so that the simulator's disk use stays at one object.

Each upload is its own process, measured from here with os.wait4: wall time (from starting the
process to its exit, so the CLI's Python start-up counts), throughput (file size / wall time),
CPU time (user + system) and peak resident memory. The simulator's own CPU time over each
upload is read from /proc. Prints a Markdown table; the figures belong in
book/src/performance.md ("Image upload"). Not run in CI: a full run moves 24 GiB through
loopback and takes about four minutes.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 1024 * 1024


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def oci_cli():
    given = os.environ.get("PEXSPEC_OCI_CLI")
    if given:
        return given
    venv = os.environ.get("PEXSPEC_OCI_VENV", os.path.join(os.environ.get("TMPDIR", "/tmp"), "pexspec-oci-cli"))
    cli = os.path.join(venv, "bin", "oci")
    if not os.access(cli, os.X_OK):
        subprocess.run([os.path.join(ROOT, ".ci", "install-oci-cli")], check=True)
    return cli


def write_random_file(path, size):
    """Random bytes (an OVA is compressed), flushed to disk so that its write-back does not
    slow down whichever upload comes first."""
    chunk = 16 * MIB
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n
        f.flush()
        os.fsync(f.fileno())


def proc_cpu_seconds(pid):
    """User + system CPU seconds of a running process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def run_measured(cmd, env, sim_pid):
    """Wall seconds, CPU seconds, peak RSS (KiB), simulator CPU seconds and stdout of one run."""
    sim_before = proc_cpu_seconds(sim_pid)
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    sim_cpu = proc_cpu_seconds(sim_pid) - sim_before
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed ({os.waitstatus_to_exitcode(status)}): {' '.join(cmd)}\n{stdout}\n{stderr}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, sim_cpu, stdout, stderr


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mib", type=int, default=2048, help="size of the uploaded file (default 2048)")
    p.add_argument("--runs", type=int, default=3, help="measured uploads per client (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured uploads per client first (default 1)")
    p.add_argument("--part-size-mib", type=int, help="pexspec's part size (default: its own)")
    p.add_argument("--parallelism", type=int, help="pexspec's parts in flight (default: its own)")
    p.add_argument("--cli-part-size-mib", type=int, help="the CLI's --part-size (default: its own, 128)")
    p.add_argument("--cli-parallelism", type=int, help="the CLI's --parallel-upload-count (default: its own, 10)")
    p.add_argument("--only", choices=["pexspec", "oci-cli"], help="run one client only")
    p.add_argument("--tmpdir", help="where the file and the simulator's state go (default: the system's "
                                     "temporary directory; they need twice --size-mib)")
    p.add_argument("--no-build", action="store_true", help="use the binaries already in target/release")
    a = p.parse_args()
    load_at_start = os.getloadavg()[0]

    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "pexspec"], cwd=ROOT, check=True)
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "pexspec-oci", "--example", "upload_bench"],
                       cwd=ROOT, check=True)
    pexspec = os.path.join(target_dir(), "release", "pexspec")
    bench_bin = os.path.join(target_dir(), "release", "examples", "upload_bench")
    cli = oci_cli() if a.only != "pexspec" else None

    tmp = tempfile.mkdtemp(prefix="pexspec-upload-bench-", dir=a.tmpdir)
    sim = None
    try:
        data = os.path.join(tmp, "image.bin")
        size = a.size_mib * MIB
        write_random_file(data, size)
        home = os.path.join(tmp, "home")
        os.mkdir(home)
        env = dict(os.environ, HOME=home, OCI_CLI_SUPPRESS_FILE_PERMISSIONS_WARNING="True",
                   SUPPRESS_LABEL_WARNING="True")
        for var in ("OCI_CLI_CONFIG_FILE", "OCI_CLI_PROFILE", "OCI_CLI_REGION", "OCI_CLI_KEY_FILE"):
            env.pop(var, None)
        sim_log = open(os.path.join(tmp, "sim.log"), "wb")
        sim = subprocess.Popen([pexspec, "sim", "serve", "--state", os.path.join(tmp, "state")],
                               stdout=subprocess.PIPE, stderr=sim_log, env=env)
        ready = json.loads(sim.stdout.readline())
        region, endpoint = next(iter(ready["oci"].items()))
        config = ready["oci_config_file"]
        common = ["--config-file", config, "--endpoint", endpoint, "--bucket", "images"]
        made = subprocess.run([bench_bin, *common, "--create-bucket"], env=env, check=True,
                              capture_output=True, text=True)
        made = json.loads(made.stdout)
        namespace = made["namespace"]
        pex_part_mib, pex_parallelism = made["part_size"] // MIB, made["parallelism"]

        def pexspec_cmd(obj):
            cmd = [bench_bin, *common, "--object", obj, "--file", data]
            if a.part_size_mib:
                cmd += ["--part-size-mib", str(a.part_size_mib)]
            if a.parallelism:
                cmd += ["--parallelism", str(a.parallelism)]
            return cmd

        def cli_base():
            return [cli, "--config-file", config, "--profile", ready["profile"], "--endpoint", endpoint]

        def cli_cmd(obj, part_mib=a.cli_part_size_mib, parallelism=a.cli_parallelism):
            cmd = cli_base() + ["os", "object", "put", "--namespace", namespace, "--bucket-name", "images",
                                "--name", obj, "--file", data, "--force", "--verify-checksum"]
            if part_mib:
                cmd += ["--part-size", str(part_mib)]
            if parallelism:
                cmd += ["--parallel-upload-count", str(parallelism)]
            return cmd

        def cli_same_cmd(obj):
            return cli_cmd(obj, pex_part_mib, pex_parallelism)

        def delete(obj):
            subprocess.run([bench_bin, *common, "--object", obj, "--delete"], env=env, check=True,
                           capture_output=True)

        same = f"oci-cli, {pex_part_mib} MiB x {pex_parallelism}"
        clients = [("pexspec", pexspec_cmd), ("oci-cli", cli_cmd), (same, cli_same_cmd)]
        if a.only:
            clients = [c for c in clients if c[0] == a.only]
        samples = {name: [] for name, _ in clients}
        details = {}
        def object_name(name, run):
            return "".join(c if c.isalnum() else "-" for c in name) + f"-{run}"

        for run in range(a.warmup):
            for name, make in clients:
                run_measured(make(object_name(name, f"warmup-{run}")), env, sim.pid)
                delete(object_name(name, f"warmup-{run}"))
        loads = [os.getloadavg()[0]]
        for run in range(a.runs):
            k = run % len(clients)
            order = clients[k:] + clients[:k]
            for name, make in order:
                obj = object_name(name, run)
                wall, cpu, rss, sim_cpu, out, err = run_measured(make(obj), env, sim.pid)
                samples[name].append((wall, cpu, rss, sim_cpu))
                if name == "pexspec":
                    details[name] = json.loads(out)
                elif "md5 checksum matches" not in err:
                    sys.exit(f"the CLI did not confirm the checksum:\n{err}")
                else:
                    split = [line for line in err.splitlines() if line.startswith("Split file into")]
                    details[name] = (split[0] if split else "one PutObject (no multipart)") + "; md5 checksum matches"
                print(f"run {run + 1} {name}: {wall:.2f} s, {size / MIB / wall:.0f} MiB/s, "
                      f"CPU {cpu:.1f} s, simulator CPU {sim_cpu:.1f} s, peak RSS {rss / 1024:.0f} MiB",
                      file=sys.stderr)
                delete(obj)
                loads.append(os.getloadavg()[0])

        pd = details.get("pexspec")
        print(f"file: {a.size_mib} MiB of random bytes; {a.warmup} unmeasured and {a.runs} measured uploads "
              f"per client, in rotating order")
        print(f"load average (1 min): {load_at_start:.2f} at the start; from {min(loads):.2f} to "
              f"{max(loads):.2f} during the measured runs (the simulator and the client count for about 2)")
        if pd:
            print(f"pexspec: {pd['parts']} parts of {pd['part_size'] // MIB} MiB, {pd['parallelism']} in flight")
        for name, _ in clients:
            if name != "pexspec" and name in details:
                print(f"{name}: {details[name]}")
        print()
        print("| client | median wall s | best wall s | median MiB/s | best MiB/s | CPU s | simulator CPU s "
              "| peak RSS MiB |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, _ in clients:
            s = samples[name]
            walls = sorted(x[0] for x in s)
            med = statistics.median(walls)
            print(f"| {name} | {med:.2f} | {walls[0]:.2f} | {size / MIB / med:.0f} | {size / MIB / walls[0]:.0f} | "
                  f"{statistics.median(x[1] for x in s):.1f} | {statistics.median(x[3] for x in s):.1f} | "
                  f"{max(x[2] for x in s) / 1024:.0f} |")
        print("\n(CPU and simulator CPU: medians, user + system seconds; peak RSS: the largest.)")
    finally:
        if sim is not None:
            sim.terminate()
            sim.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
