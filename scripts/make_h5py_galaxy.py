#!/usr/bin/env python3
"""Write a galaxy file with h5py, as an outside tool would, to prove galmass reads the documented layout.

Usage: scripts/setup_venv.sh && scripts/.venv/bin/python scripts/make_h5py_galaxy.py

Writes crates/galmass-snapshot/test_data/h5py_galaxy.h5 and h5py_galaxy.json (values computed here with numpy,
which the Rust test compares against). The layout is the one documented in galmass_core::galaxy. On purpose it mixes
what h5py users do: float32 positions, int64 ids, numpy bool flags (h5py's int8 enum), a fixed-length byte string
attribute beside variable-length str ones, and no black holes.
"""
import json
import pathlib

import h5py
import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "galmass-snapshot" / "test_data"


def rotation(angle_deg):
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    # Rotation about x: a proper rotation matrix.
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def main():
    rng = np.random.default_rng(20261123)
    counts = {"stars": 50, "gas": 30, "dm": 40}
    path = OUT / "h5py_galaxy.h5"
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {"species": {}}
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "galmass-galaxy"
        f.attrs["version"] = np.int32(1)
        f.attrs["suite"] = np.bytes_("h5py-written")  # fixed-length ASCII
        f.attrs["galaxy_id"] = np.int64(42)
        f.attrs["redshift"] = 0.5
        f.attrs["source"] = "scripts/make_h5py_galaxy.py"
        f.attrs["source_halo_id"] = np.int64(1234)
        f.attrs["rotation_to_aligned"] = rotation(30.0)
        radii = np.logspace(-2, 3, 200)
        truth = f.create_group("truth")
        truth.create_dataset("radii_kpc", data=radii)
        total = np.zeros_like(radii)
        for name, n in counts.items():
            g = f.create_group(name)
            pos = rng.normal(0.0, 5.0, size=(n, 3)).astype(np.float32)
            vel = rng.normal(0.0, 50.0, size=(n, 3))
            mass = rng.uniform(1e4, 1e5, size=n)
            g.create_dataset("pos", data=pos).attrs["units"] = "kpc"
            g.create_dataset("vel", data=vel).attrs["units"] = "km/s"
            g.create_dataset("mass", data=mass).attrs["units"] = "Msun"
            g.create_dataset("id", data=np.arange(n, dtype=np.int64) + 1000)
            g.create_dataset("high_res", data=rng.uniform(size=n) > 0.2)
            if name == "stars":
                g.create_dataset("age_gyr", data=rng.uniform(0.1, 13.0, size=n))
                lum = g.create_dataset("lum_r", data=mass * 0.5)
                lum.attrs["solar_abs_mag_ab"] = 4.65
            if name == "gas":
                g.create_dataset("hi_mass", data=mass * 0.3)
                g.create_dataset("temperature_k", data=rng.uniform(1e3, 1e5, size=n).astype(np.float32))
                g.create_dataset("smoothing_length_kpc", data=rng.uniform(0.1, 1.0, size=n))
            r = np.sqrt((pos.astype(np.float64) ** 2).sum(axis=1))
            cumulative = np.array([mass[r < x].sum() for x in radii])
            truth.create_dataset(f"mass_{name}_msun", data=cumulative)
            order = np.argsort(r)
            total += cumulative
            expected["species"][name] = {
                "n": n,
                "total_mass_msun": float(mass.sum()),
                "first_pos_kpc": [float(x) for x in pos[0].astype(np.float64)],
                "last_vel_kms": [float(x) for x in vel[-1]],
                "n_high_res": int((f[name]["high_res"][...]).sum()),
                "max_radius_kpc": float(r[order[-1]]),
            }
            truth.attrs[f"half_mass_radius_{name}_kpc"] = float(np.median(r))
        truth.create_dataset("mass_total_msun", data=total)
        truth.attrs["half_mass_radius_total_kpc"] = 5.0
        truth.attrs["source"] = "particles: all particles written by h5py"
        expected["truth_total_at_index_150_msun"] = float(total[150])
        expected["first_star_age_gyr"] = float(f["stars"]["age_gyr"][0])
        expected["first_gas_temperature_k"] = float(f["gas"]["temperature_k"][0])
    (OUT / "h5py_galaxy.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes) and h5py_galaxy.json with h5py {h5py.__version__}")


if __name__ == "__main__":
    main()
