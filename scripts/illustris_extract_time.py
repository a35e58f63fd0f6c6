#!/usr/bin/env python3
"""Times illustris_python reading one subhalo of a TNG-layout box (every field of gas, dark matter and stars): the
peer of galmass's extraction benchmark (`crates/galmass-cli/examples/extract_bench.rs`, which writes the box).

    python3 -m venv /tmp/illvenv && /tmp/illvenv/bin/pip install -r scripts/requirements-illustris.txt
    cargo run --release -p galmass-cli --example extract_bench -- /tmp/extract_bench
    /tmp/illvenv/bin/python scripts/illustris_extract_time.py /tmp/extract_bench/tng/output --subhalo 1 --repeat 3
"""
import argparse
import time

import illustris_python as il


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the box's output folder (snapdir_NNN, groups_NNN; offsets in ../postprocessing)")
    parser.add_argument("--snap", type=int, default=99)
    parser.add_argument("--subhalo", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    best = float("inf")
    for rep in range(args.repeat):
        start = time.perf_counter()
        n = sum(il.snapshot.loadSubhalo(args.base, args.snap, args.subhalo, pt)["count"] for pt in ["gas", "dm", "stars"])
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        print(f"illustris_python loadSubhalo({args.subhalo}), all fields of gas, dm, stars: {n} particles in {elapsed:.3f} s")
    print(f"best of {args.repeat}: {best:.3f} s")


if __name__ == "__main__":
    main()
