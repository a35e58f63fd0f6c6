#!/usr/bin/env python3
"""k-nearest-neighbour distances: scipy.spatial.cKDTree vs galmass_core::neighbours::knn_distances, same points.

Usage (from the repository root):
    python3 -m venv /tmp/knnvenv && /tmp/knnvenv/bin/pip install -r scripts/requirements-knn.txt
    eval "$(cargo xtask env)" && cargo build --release -p galmass-core --example knn_bench
    /tmp/knnvenv/bin/python scripts/knn_compare.py [--n 100000 1000000] [--k 32 64] [--repeat 3] [--bin PATH]

Points: a Plummer sphere (a = 1 kpc) from numpy's default_rng(seed), written as raw little-endian float64 (N x 3,
row-major) to --workdir, read by the knn_bench example. galmass's distance to the k-th neighbour not counting the
point itself is column k of cKDTree.query(x, k + 1), which counts the point itself. Both timings include the tree
build (cKDTree(x) with scipy's defaults + query); best of --repeat. scipy runs with workers=1 and 2, galmass with
RAYON_NUM_THREADS=1 and 2. galmass queries the points in its tree order (neighbouring queries share cache lines
and bounds); the last column times scipy the same way (queries in cKDTree's order, one worker). Prints a Markdown
table for BENCHMARKS.md.
"""
import argparse
import json
import os
import pathlib
import platform
import subprocess
import time

import numpy as np
import scipy
from scipy.spatial import cKDTree

ROOT = pathlib.Path(__file__).resolve().parent.parent


def default_binary():
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(pathlib.Path(target) / "release" / "examples" / "knn_bench")


def plummer(n, seed, a_kpc=1.0):
    rng = np.random.default_rng(seed)
    u = rng.uniform(1e-12, 1.0, n)
    r = a_kpc / np.sqrt(u ** (-2.0 / 3.0) - 1.0)
    cos_theta = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    sin_theta = np.sqrt(1.0 - cos_theta ** 2)
    return np.column_stack([r * sin_theta * np.cos(phi), r * sin_theta * np.sin(phi), r * cos_theta])


def time_scipy(x, k, workers, repeat, tree_order=False):
    """Best build and build + query times; with tree_order, the queries run in cKDTree's own point order (as
    galmass runs them) and the distances are put back in input order."""
    best_build, best_total, distances = np.inf, np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        tree = cKDTree(x)
        t1 = time.perf_counter()
        if tree_order:
            d = np.empty(len(x))
            d[tree.indices] = tree.query(x[tree.indices], k + 1, workers=workers)[0][:, k]
        else:
            d = tree.query(x, k + 1, workers=workers)[0][:, k]
        t2 = time.perf_counter()
        best_build, best_total = min(best_build, t1 - t0), min(best_total, t2 - t0)
        distances = d
    return best_build, best_total, distances


def run_ours(binary, positions_file, k, threads, repeat, out_file):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    cmd = [binary, "--positions", str(positions_file), "--k", str(k), "--repeat", str(repeat), "--out", str(out_file)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["threads"] == threads, result
    return result["build_s"], result["total_s"], np.fromfile(out_file, dtype="<f8")


def fmt_s(seconds):
    return f"{seconds * 1e3:.0f} ms" if seconds < 1.0 else f"{seconds:.2f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--k", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--bin", default=default_binary())
    parser.add_argument("--workdir", default="/tmp/knn_compare")
    args = parser.parse_args()
    workdir = pathlib.Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"scipy {scipy.__version__}, numpy {np.__version__}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start\n")
    header = ("| N | k | max abs diff | scipy build / total, 1 worker | galmass build / total, 1 thread | speed | "
              "scipy total, 2 workers | galmass total, 2 threads | speed | scipy, 1 worker, queries in tree order |")
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for n in args.n:
        x = plummer(n, args.seed + n)
        positions_file = workdir / f"plummer_{n}.f64"
        np.ascontiguousarray(x, dtype="<f8").tofile(positions_file)
        for k in args.k:
            out_file = workdir / f"ours_{n}_{k}.f64"
            s1_build, s1, reference = time_scipy(x, k, 1, args.repeat)
            s2_build, s2, reference_2 = time_scipy(x, k, 2, args.repeat)
            _, s1_ordered, reference_ordered = time_scipy(x, k, 1, args.repeat, tree_order=True)
            assert np.array_equal(reference, reference_2) and np.array_equal(reference, reference_ordered)
            o1_build, o1, ours = run_ours(args.bin, positions_file, k, 1, args.repeat, out_file)
            _, o2, ours_2 = run_ours(args.bin, positions_file, k, 2, args.repeat, out_file)
            assert np.array_equal(ours, ours_2), "galmass results depend on the thread count"
            diff = np.abs(ours - reference)
            rel = np.max(diff / np.where(reference > 0, reference, 1.0))
            print(f"| {n:.0e} | {k} | {diff.max():.1e} (rel {rel:.1e}) | {fmt_s(s1_build)} / {fmt_s(s1)} | "
                  f"{fmt_s(o1_build)} / {fmt_s(o1)} | {s1 / o1:.2f}x | {fmt_s(s2)} | {fmt_s(o2)} | {s2 / o2:.2f}x | "
                  f"{fmt_s(s1_ordered)} ({s1_ordered / o1:.2f}x) |",
                  flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end (other processes share the cores when above ~0.5)")


if __name__ == "__main__":
    main()
