#!/usr/bin/env python3
"""Benchmark: both star maps of one projection, scipy.stats.gaussian_kde vs galmass-mock, on the same input, in one run.

Usage (from the repository root):
    scripts/setup_venv.sh
    eval "$(cargo xtask env)" && cargo build --release -p galmass-mock --example maps_bench
    scripts/.venv/bin/python scripts/maps_bench.py [--repeat 20] [--bin PATH] [--dataset-projections 10000]

Inputs are the reference cases of kde_scipy_reference.py (Plummer projections of 1e3 and 1e4 stars). scipy runs the
same pipeline as galmass_mock::star_maps (see kde_scipy_reference.star_maps), single-threaded (scipy's KDE is).
galmass runs with 1 and with 2 rayon threads. Prints a Markdown table for BENCHMARKS.md.
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

from kde_scipy_reference import OUT, star_maps

ROOT = pathlib.Path(__file__).resolve().parent.parent


def default_binary():
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(pathlib.Path(target) / "release" / "examples" / "maps_bench")


def time_scipy(x, y, v, preset, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        star_maps(x, y, v, preset)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def run_ours(binary, args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--bin", default=default_binary())
    parser.add_argument("--dataset-projections", type=int, default=10000)
    args = parser.parse_args()
    cases = json.loads((OUT / "kde_reference.json").read_text())["cases"]
    print(f"scipy {scipy.__version__}, numpy {np.__version__}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores\n")
    print("| case | stars sampled | in map 1 / map 2 aperture | scipy (1 thread) | galmass 1 thread | ratio | galmass 2 threads | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for case in (c for c in cases if c["kind"] == "maps"):
        files = {k: str(OUT / case[k]) for k in ("x", "y", "v")}
        x, y, v = (np.fromfile(files[k], dtype="<f8") for k in ("x", "y", "v"))
        t_scipy = time_scipy(x, y, v, case["preset"], args.repeat)
        common = ["single", "--x", files["x"], "--y", files["y"], "--v", files["v"], "--preset", case["preset"],
                  "--repeat", str(max(args.repeat, 50))]
        one = run_ours(args.bin, common + ["--threads", "1"])
        two = run_ours(args.bin, common + ["--threads", "2"])
        print(f"| {case['preset']} | {case['n']} | {one['n_in_aperture']} / {one['n_in_rv_aperture']} | "
              f"{t_scipy * 1e3:.1f} ms | {one['median_s'] * 1e3:.3f} ms | {t_scipy / one['median_s']:.0f}x | "
              f"{two['median_s'] * 1e3:.3f} ms | {t_scipy / two['median_s']:.0f}x |")
    if args.dataset_projections > 0:
        print()
        for threads in (1, 2):
            d = run_ours(args.bin, ["dataset", "--projections", str(args.dataset_projections), "--threads", str(threads)])
            print(f"dataset scale: {d['projections']} projections of {d['n_stars']}-star Plummer galaxies "
                  f"(sarrato2025 preset, 64 lines of sight each), {threads} thread(s): {d['seconds']:.1f} s, "
                  f"{d['projections_per_s']:.0f} projections/s ({d['succeeded']} succeeded)")


if __name__ == "__main__":
    main()
