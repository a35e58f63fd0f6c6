#!/usr/bin/env python3
"""gizmo_analysis (and h5py) read galmass's Gizmo snapshot: counts, total masses and first positions per type.

Usage (from the repository root):
    python3 -m venv /tmp/gizmovenv && /tmp/gizmovenv/bin/pip install -r scripts/requirements-gizmo.txt
    eval "$(cargo xtask env)" && cargo run -p galmass-snapshot --example gizmo_sample -- /tmp/gizmo_sample
    /tmp/gizmovenv/bin/python scripts/gizmo_check.py /tmp/gizmo_sample

The example writes a 2-file snapshot under /tmp/gizmo_sample/output/snapdir_600 and expected.json: per PartType,
what galmass's reader returns in physical units (count, total mass in Msun, the first positions in kpc, ids, mean
stellar age). This script reads the snapshot twice, independently of galmass: with gizmo_analysis
(gizmo.io.Read.read_snapshots; its 'position' is comoving kpc, so times the scale factor; 'mass' Msun; 'age' Gyr
from its own cosmology integration) and with plain h5py (Coordinates x a / h, Masses x 1e10 / h, summed over the
chunk files), and prints the largest differences. Exit status 1 on a mismatch beyond float32 precision.
"""
import json
import pathlib
import sys

import h5py
import numpy as np

SPECIES = {0: "gas", 1: "dark", 2: "dark2", 4: "star", 5: "blackhole"}


def read_h5py(snapdir):
    files = sorted(snapdir.glob("snapshot_*.hdf5"))
    out = {}
    with h5py.File(files[0], "r") as f:
        attrs = dict(f["Header"].attrs.items())
    a, h = attrs["Time"], attrs["HubbleParam"]
    for t in SPECIES:
        pos, mass, ids = [], [], []
        for name in files:
            with h5py.File(name, "r") as f:
                if f"PartType{t}" not in f:
                    continue
                g = f[f"PartType{t}"]
                pos.append(g["Coordinates"][:] * a / h)
                mass.append(g["Masses"][:].astype(np.float64) * 1e10 / h)
                ids.append(g["ParticleIDs"][:])
        if pos:
            out[t] = {"pos": np.concatenate(pos), "mass": np.concatenate(mass), "ids": np.concatenate(ids)}
    return attrs, out


def read_gizmo_analysis(root):
    try:
        import gizmo_analysis as gizmo
    except ImportError as err:  # h5py alone then
        print(f"gizmo_analysis not available ({err}): h5py only")
        return None, None
    part = gizmo.io.Read.read_snapshots(
        species="all", snapshot_value_kind="index", snapshot_values=600, simulation_directory=str(root),
        snapshot_directory="output/", assign_hosts=False, check_properties=False, verbose=False)
    return part, getattr(gizmo, "__version__", "1.1")


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gizmo_sample")
    expected = json.loads((root / "expected.json").read_text())
    attrs, raw = read_h5py(root / "output" / f"snapdir_{expected['snap_num']:03d}")
    a = attrs["Time"]
    part, version = read_gizmo_analysis(root)
    print(f"h5py {h5py.__version__}, gizmo_analysis {version}: a = {a}, h = {attrs['HubbleParam']}, "
          f"NumFilesPerSnapshot = {attrs['NumFilesPerSnapshot']}, NumPart_Total = {list(attrs['NumPart_Total'])}")
    failures = []
    print("| type | reader | count | galmass count | total mass Msun | galmass total | max rel dmass | max |dpos| kpc (first 5) | ids equal |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t, name in SPECIES.items():
        want = expected["types"].get(f"PartType{t}")
        if want is None:
            continue
        readers = [("h5py", raw.get(t))]
        if part is not None and name in part:
            p = part[name]
            mass = p["mass"] if "mass" in p else (raw[t]["mass"] if t in raw else np.zeros(0))
            readers.append(("gizmo_analysis", {"pos": p["position"] * a, "mass": np.asarray(mass, dtype=np.float64), "ids": p["id"],
                                               "age": p["age"] if "age" in p else None}))
        for reader, got in readers:
            count = 0 if got is None else len(got["mass"])
            total = 0.0 if got is None else float(np.sum(got["mass"]))
            rel = abs(total - want["total_mass_msun"]) / max(want["total_mass_msun"], 1e-30)
            n = min(5, count)
            dpos = float(np.max(np.abs(got["pos"][:n] - np.array(want["first_pos_kpc"][:n])))) if n else 0.0
            ids_equal = n == 0 or list(map(int, got["ids"][:n])) == want["first_ids"][:n]
            print(f"| PartType{t} | {reader} | {count} | {want['count']} | {total:.6e} | {want['total_mass_msun']:.6e} | {rel:.1e} | {dpos:.2e} | {ids_equal} |")
            if count != want["count"] or rel > 1e-6 or dpos > 1e-4 or not ids_equal:
                failures.append(f"PartType{t} {reader}: count {count} vs {want['count']}, rel dmass {rel}, dpos {dpos}, ids {ids_equal}")
            if got is not None and got.get("age") is not None and want.get("mean_age_gyr") is not None:
                d = abs(float(np.mean(got["age"])) - want["mean_age_gyr"])
                print(f"|   | {reader} mean stellar age | {np.mean(got['age']):.4f} Gyr | galmass {want['mean_age_gyr']:.4f} Gyr | | | diff {d:.1e} Gyr | | |")
    if failures:
        print("MISMATCH:\n  " + "\n  ".join(failures))
        return 1
    print("all counts, total masses, first positions and ids agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
