#!/usr/bin/env python3
"""pynbody 2.8 reads the tipsy + .param + .iord/.HI + AHF files that galmass_snapshot::tipsy::write produced.

Usage (from the repository root):
    python3 -m venv /tmp/pynbvenv && /tmp/pynbvenv/bin/pip install -r scripts/requirements-pynbody.txt
    eval "$(cargo xtask env)" && cargo run -p galmass-snapshot --example tipsy_sample -- /tmp/tipsy-sample
    /tmp/pynbvenv/bin/python scripts/pynbody_check.py /tmp/tipsy-sample/sample.00512 [--expected PATH] [--rtol 1e-6]

Writes nothing itself (pynbody may cache an `.AHF_fpos` index beside the AHF files, as it always does). Loads the
snapshot, converts to physical units (kpc, km/s, Msol), and prints counts, total masses, first positions and
velocities per family, the HI mass (mass x HI), h, a and the number of AHF halos, each next to the value in the
JSON the example wrote (`expected.json` beside the snapshot by default). Exits 1 when a value differs by more than
--rtol (relative).
"""
import argparse
import json
import pathlib
import sys
import warnings

import numpy as np
import pynbody


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("snapshot")
    parser.add_argument("--expected", default=None, help="JSON written by the tipsy_sample example")
    parser.add_argument("--rtol", type=float, default=1e-6)
    args = parser.parse_args()
    snapshot = pathlib.Path(args.snapshot)
    expected_path = pathlib.Path(args.expected) if args.expected else snapshot.parent / "expected.json"
    expected = json.loads(expected_path.read_text())

    warnings.simplefilter("ignore")
    sim = pynbody.load(str(snapshot))
    sim.physical_units()
    rows = []

    def compare(name, got, want):
        got = np.atleast_1d(np.asarray(got, dtype=float))
        want = np.atleast_1d(np.asarray(want, dtype=float))
        rel = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300))
        rows.append((name, got, want, rel))

    compare("a", sim.properties["a"], expected["scale_factor"])
    compare("h", sim.properties["h"], expected["h"])
    for family, key in ((sim.gas, "gas"), (sim.dm, "dark"), (sim.star, "star")):
        compare(f"n_{key}", len(family), expected[f"n_{key}"])
        compare(f"{key} total mass [Msol]", family["mass"].sum(dtype=np.float64), expected[f"{key}_total_mass_msun"])
        compare(f"{key} first pos [kpc]", family["pos"][0], expected[f"{key}_first_pos_kpc"])
        compare(f"{key} first vel [km/s]", family["vel"][0], expected[f"{key}_first_vel_kms"])
    hi = sim.gas["HI"]
    compare("gas HI mass (mass x HI) [Msol]", (sim.gas["mass"] * hi).sum(dtype=np.float64), expected["gas_hi_total_msun"])
    compare("gas first HI", hi[0], expected["gas_first_hi_fraction"])
    halos = sim.halos(priority=["AHFCatalogue"])
    compare("AHF halos", len(halos), expected["n_halos"])
    first_halo = halos[0]
    # halo 0 is the first galaxy: its particles per family check AHF's particle numbering (dark, stars, gas)
    # and pynbody's own ordering of halos by file order
    for family, key in ((first_halo.gas, "gas"), (first_halo.dm, "dark"), (first_halo.star, "star")):
        compare(f"AHF halo 0 {key} particles", len(family), expected[f"halo0_n_{key}"])
    compare("AHF halo 0 first star pos [kpc]", first_halo.star["pos"][0], expected["star_first_pos_kpc"])

    print(f"pynbody {pynbody.__version__} reading {snapshot} (units: pos {sim['pos'].units}, vel {sim['vel'].units}, "
          f"mass {sim['mass'].units})")
    width = max(len(r[0]) for r in rows)
    failed = False
    for name, got, want, rel in rows:
        ok = rel <= args.rtol
        failed |= not ok
        fmt = lambda v: " ".join(f"{x:.10g}" for x in v)
        print(f"{name:<{width}}  pynbody {fmt(got):<48} galmass {fmt(want):<48} rel {rel:.2e} {'ok' if ok else 'FAIL'}")
    print("all within rtol" if not failed else f"some values differ by more than rtol = {args.rtol}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
