#!/usr/bin/env python3
"""illustris_python reads galmass's TNG-layout box: counts and values per subhalo against the galaxies written.

Usage (from the repository root):
    python3 -m venv /tmp/illvenv && /tmp/illvenv/bin/pip install -r scripts/requirements-illustris.txt
    eval "$(cargo xtask env)" && cargo run -p galmass-snapshot --example tng_box -- /tmp/tngbox
    /tmp/illvenv/bin/python scripts/illustris_check.py /tmp/tngbox

The example writes a 3-chunk snapshot, a 2-chunk group catalogue and the offsets file under /tmp/tngbox/output (and
../postprocessing/offsets), plus expected.json: every subhalo's particles as the galaxies hold them (physical kpc,
km/s, Msun, box frame about the subhalo centre, ages in Gyr) and the ids and counts galmass's own reader returns.
This script loads each subhalo with illustris_python.snapshot.loadSubhalo (which goes through the group catalogue's
SubhaloLenType and the offsets file's Subhalo/SnapByType and FileOffsets), converts TNG units with the header
(ckpc/h x a/h, km/s sqrt(a) x sqrt(a), 1e10 Msun/h x 1e10/h, MassTable for dark matter), unwraps positions about
SubhaloPos, computes stellar ages from GFM_StellarFormationTime by integrating da / (a H(a)) numerically (not
galmass's closed form), and prints the largest differences. Exit status 1 on any mismatch beyond float32 precision.
"""
import json
import pathlib
import sys

import numpy as np
import illustris_python as il

TYPES = {"gas": 0, "dm": 1, "stars": 4, "bh": 5}
HUBBLE_TIME_GYR_H = 9.777922216807891


def cosmic_time_gyr(a, h, om, ol, n=200001):
    grid = np.linspace(1e-8, a, n)
    integrand = 1.0 / (grid * (h / HUBBLE_TIME_GYR_H) * np.sqrt(om / grid**3 + ol))
    return np.trapezoid(integrand, grid)


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tngbox")
    expected = json.loads((root / "expected.json").read_text())
    base = str(root / "output")
    snap = expected["snap_num"]
    header = il.groupcat.loadHeader(base, snap)
    with il.snapshot.h5py.File(il.snapshot.snapPath(base, snap), "r") as f:
        snap_header = dict(f["Header"].attrs.items())
    a, h = snap_header["Time"], snap_header["HubbleParam"]
    om, ol = snap_header["Omega0"], snap_header["OmegaLambda"]
    box_kpc = snap_header["BoxSize"] * a / h
    print(f"illustris_python {getattr(il, '__version__', '1.1.1')}: a = {a}, h = {h}, box = {box_kpc:.3f} kpc, "
          f"{header['Ngroups_Total']} groups, {header['Nsubgroups_Total']} subhalos, "
          f"{snap_header['NumFilesPerSnapshot']} snapshot chunks")
    subs = il.groupcat.loadSubhalos(base, snap, fields=["SubhaloLenType", "SubhaloPos", "SubhaloGrNr"])
    t_now = cosmic_time_gyr(a, h, om, ol)
    worst = {"pos_kpc": 0.0, "vel_kms": 0.0, "mass_rel": 0.0, "age_gyr": 0.0}
    failures = []
    print("| subhalo | group | species | count (illustris) | count (galmass) | max |dpos| kpc | max |dvel| km/s | max rel dmass | max |dage| Gyr | ids equal |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for sub in expected["subhalos"]:
        sid = sub["subhalo_id"]
        if list(subs["SubhaloLenType"][sid]) != sub["len_type"]:
            failures.append(f"subhalo {sid}: SubhaloLenType {subs['SubhaloLenType'][sid]} vs {sub['len_type']}")
        if subs["SubhaloGrNr"][sid] != sub["group_id"]:
            failures.append(f"subhalo {sid}: SubhaloGrNr")
        centre = subs["SubhaloPos"][sid] * a / h
        for name, want in sub["species"].items():
            pt = TYPES[name]
            fields = ["Coordinates", "Velocities", "ParticleIDs"] + ([] if pt == 1 else ["Masses"])
            if pt == 4:
                fields.append("GFM_StellarFormationTime")
            got = il.snapshot.loadSubhalo(base, snap, sid, pt, fields=fields)
            count = int(got["count"])
            row = [str(sid), str(sub["group_id"]), name, str(count), str(want["galmass_count"])]
            if count != want["count"] or count != want["galmass_count"]:
                failures.append(f"subhalo {sid} {name}: count {count} vs {want['count']} (galmass {want['galmass_count']})")
            if count == 0:
                print("| " + " | ".join(row + ["-"] * 5) + " |")
                continue
            pos = got["Coordinates"] * a / h
            pos = centre + (pos - centre) - box_kpc * np.round((pos - centre) / box_kpc)
            vel = got["Velocities"] * np.sqrt(a)
            mass = (got["Masses"] if pt != 1 else np.full(count, snap_header["MassTable"][1])) * 1e10 / h
            dpos = np.max(np.abs(pos - np.array(want["pos_kpc"])))
            dvel = np.max(np.abs(vel - np.array(want["vel_kms"])))
            dmass = np.max(np.abs(mass / np.array(want["mass_msun"]) - 1.0))
            ids_equal = want["galmass_ids"] is not None and np.array_equal(got["ParticleIDs"], np.array(want["galmass_ids"], dtype=np.uint64))
            dage = "-"
            if pt == 4:
                ages = np.array([t_now - cosmic_time_gyr(af, h, om, ol, 20001) for af in got["GFM_StellarFormationTime"]])
                dage_value = np.max(np.abs(ages - np.array(want["age_gyr"])))
                worst["age_gyr"] = max(worst["age_gyr"], dage_value)
                dage = f"{dage_value:.2e}"
                if dage_value > 2e-3:
                    failures.append(f"subhalo {sid} stars: ages differ by {dage_value} Gyr")
            worst["pos_kpc"] = max(worst["pos_kpc"], dpos)
            worst["vel_kms"] = max(worst["vel_kms"], dvel)
            worst["mass_rel"] = max(worst["mass_rel"], dmass)
            if dpos > 1e-6 * box_kpc or dvel > 1e-4 or dmass > 1e-6 or not ids_equal:
                failures.append(f"subhalo {sid} {name}: dpos {dpos}, dvel {dvel}, dmass {dmass}, ids equal {ids_equal}")
            print("| " + " | ".join(row + [f"{dpos:.2e}", f"{dvel:.2e}", f"{dmass:.2e}", dage, str(ids_equal)]) + " |")
    # Groups: loadHalo through Group/GroupLenType and Group/SnapByType.
    for gid in range(header["Ngroups_Total"]):
        members = [s for s in expected["subhalos"] if s["group_id"] == gid]
        for name, pt in TYPES.items():
            got = il.snapshot.loadHalo(base, snap, gid, pt, fields=["ParticleIDs", "Coordinates"])
            n_expected = sum(s["species"].get(name, {"count": 0})["count"] for s in members)
            if int(got["count"]) != n_expected:
                failures.append(f"group {gid} {name}: count {got['count']} vs {n_expected}")
    print(f"groups: loadHalo counts checked for {header['Ngroups_Total']} groups x 4 types")
    print("largest differences: " + ", ".join(f"{k} {v:.3e}" for k, v in worst.items()))
    if failures:
        print("MISMATCHES:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("OK: illustris_python agrees with galmass's TNG-layout box")


if __name__ == "__main__":
    main()
