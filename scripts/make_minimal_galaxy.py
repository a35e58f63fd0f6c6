#!/usr/bin/env python3
"""Write the smallest galaxy file galmass reads, the way an astronomer would from their own code (h5py).

The file holds only the root attributes `format` ("galmass-galaxy") and `version` (1) and one species group,
`stars`, with `pos` (N, 3) kpc, `vel` (N, 3) km/s and `mass` (N,) Msun as float64 datasets, centred on the galaxy.
galmass fills in the rest (documented in galmass_snapshot::galaxy_file): suite and source "unknown", galaxy_id 0,
redshift 0, and rotation_to_aligned from the stars' angular momentum.

The stars here are a Plummer sphere (scale radius --a-kpc) in slow rotation about z, with an isotropic velocity
dispersion of --sigma-kms; any positions, velocities and masses will do.

    python scripts/make_minimal_galaxy.py --out mine.h5
    galmass info --galaxy mine.h5
    galmass estimate --galaxy mine.h5 --los 0,0,1
"""

import argparse

import h5py
import numpy as np


def plummer_stars(n, a_kpc, sigma_kms, v_rot_kms, seed):
    """Positions, velocities and masses of n stars of a Plummer sphere (total 1e8 Msun)."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(1e-6, 0.999, n)
    r = a_kpc / np.sqrt(u ** (-2.0 / 3.0) - 1.0)
    cos_t = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    sin_t = np.sqrt(1.0 - cos_t**2)
    pos = np.column_stack([r * sin_t * np.cos(phi), r * sin_t * np.sin(phi), r * cos_t])
    vel = rng.normal(0.0, sigma_kms, (n, 3))
    r_cyl = np.maximum(np.hypot(pos[:, 0], pos[:, 1]), 1e-9)
    vel[:, 0] += -v_rot_kms * pos[:, 1] / r_cyl
    vel[:, 1] += v_rot_kms * pos[:, 0] / r_cyl
    mass = np.full(n, 1e8 / n)
    return pos, vel, mass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the galaxy file to write (HDF5)")
    parser.add_argument("--n", type=int, default=3000, help="number of star particles")
    parser.add_argument("--a-kpc", type=float, default=1.0, help="Plummer scale radius, kpc")
    parser.add_argument("--sigma-kms", type=float, default=10.0, help="velocity dispersion per axis, km/s")
    parser.add_argument("--v-rot-kms", type=float, default=5.0, help="rotation speed about z, km/s")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    args = parser.parse_args()

    pos, vel, mass = plummer_stars(args.n, args.a_kpc, args.sigma_kms, args.v_rot_kms, args.seed)
    with h5py.File(args.out, "w") as f:
        f.attrs["format"] = "galmass-galaxy"  # h5py stores a str as a variable-length UTF-8 string
        f.attrs["version"] = 1  # int64
        stars = f.create_group("stars")
        stars["pos"] = pos  # (N, 3) kpc, float64
        stars["vel"] = vel  # (N, 3) km/s
        stars["mass"] = mass  # (N,) Msun
    print(f"wrote {args.out}: {args.n} stars, {mass.sum():.3e} Msun")


if __name__ == "__main__":
    main()
