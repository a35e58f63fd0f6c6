#!/usr/bin/env python3
"""Compare galmass-synth's distribution-function sampler with galpy's constantbetadf on the same potential.

Usage (from the repository root):
    scripts/setup_venv.sh
    eval "$(cargo xtask env)" && cargo build --release -p galmass-synth --example sample_sphere
    scripts/.venv/bin/python scripts/galpy_compare.py [--n 100000]

A Plummer tracer (a = 0.5 kpc) in an NFW halo (rho_s = 5e7 Msun/kpc^3, r_s = 1 kpc), constant beta = 0 and -0.5.
Both samples are binned in the same 10 radial bins (deciles of the galpy sample); the script prints sigma_r and
sigma_t per bin for galpy, galmass and the Jeans solution, and a two-sample Kolmogorov-Smirnov test of the radii.
"""
import argparse
import os
import pathlib
import subprocess
import tempfile
import time

import astropy.units as u
import numpy as np
from galpy.df import constantbetadf
from galpy.potential import NFWPotential, PlummerPotential
from scipy.integrate import quad
from scipy.stats import ks_2samp

ROOT = pathlib.Path(__file__).resolve().parent.parent
G = 4.30091727e-6
A, M_TRACER, RHO_S, R_S = 0.5, 1e6, 5e7, 1.0
RO, VO = 8.0, 220.0


def nfw_mass(r):
    x = r / R_S
    return 4 * np.pi * RHO_S * R_S ** 3 * (np.log1p(x) - x / (1 + x))


def jeans_sigma_r2(r, beta):
    nu = lambda s: (1 + s * s / (A * A)) ** -2.5
    integral = quad(lambda s: nu(s) * s ** (2 * beta) * G * nfw_mass(s) / s ** 2, r, np.inf, limit=200)[0]
    return integral / (nu(r) * r ** (2 * beta))


def dispersions(pos, vel, edges):
    r = np.sqrt((pos ** 2).sum(axis=1))
    vr = (pos * vel).sum(axis=1) / r
    vt2 = (vel ** 2).sum(axis=1) - vr ** 2
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (r >= lo) & (r < hi)
        rows.append((np.sqrt(np.mean(vr[sel] ** 2)), np.sqrt(np.mean(vt2[sel]) / 2), sel.sum()))
    return r, rows


def galpy_sample(beta, n):
    halo = NFWPotential(amp=4 * np.pi * RHO_S * R_S ** 3 * u.Msun, a=R_S * u.kpc, ro=RO, vo=VO)
    tracer = PlummerPotential(amp=M_TRACER * u.Msun, b=A * u.kpc, ro=RO, vo=VO)
    t = time.perf_counter()
    df = constantbetadf(pot=halo, denspot=tracer, beta=beta, rmax=1000 * u.kpc, ro=RO, vo=VO)
    orbits = df.sample(n=n)
    seconds = time.perf_counter() - t
    pos = np.stack([orbits.x(use_physical=True), orbits.y(use_physical=True), orbits.z(use_physical=True)], axis=1)
    vel = np.stack([orbits.vx(use_physical=True), orbits.vy(use_physical=True), orbits.vz(use_physical=True)], axis=1)
    return np.asarray(pos, float), np.asarray(vel, float), seconds


def galmass_sample(beta, n, binary):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "sphere.f64")
        t = time.perf_counter()
        subprocess.run([binary, str(beta), str(n), "1", out], check=True, capture_output=True)
        seconds = time.perf_counter() - t
        data = np.fromfile(out, dtype="<f8").reshape(-1, 6)
    return data[:, :3], data[:, 3:], seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--betas", type=float, nargs="+", default=[0.0, -0.5])
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    parser.add_argument("--bin", default=str(pathlib.Path(target) / "release" / "examples" / "sample_sphere"))
    args = parser.parse_args()
    for beta in args.betas:
        gpos, gvel, gsec = galpy_sample(beta, args.n)
        mpos, mvel, msec = galmass_sample(beta, args.n, args.bin)
        gr = np.sqrt((gpos ** 2).sum(axis=1))
        edges = np.quantile(gr, np.linspace(0, 1, 11))
        edges[-1] = np.inf
        _, grows = dispersions(gpos, gvel, edges)
        mr, mrows = dispersions(mpos, mvel, edges)
        ks = ks_2samp(gr, mr)
        print(f"\nbeta = {beta}: galpy {gsec:.1f} s, galmass {msec:.2f} s (incl. process start) for {args.n} particles; "
              f"KS test of radii: D = {ks.statistic:.4f}, p = {ks.pvalue:.3f}")
        print("| r bin [kpc] | sigma_r galpy | sigma_r galmass | sigma_r Jeans (bin centre) | sigma_t galpy | sigma_t galmass |")
        print("|---|---|---|---|---|---|")
        for (lo, hi), g, m in zip(zip(edges[:-1], edges[1:]), grows, mrows):
            centre = np.median(gr[(gr >= lo) & (gr < hi)])
            j = np.sqrt(jeans_sigma_r2(centre, beta))
            print(f"| {lo:.3f}-{hi:.3f} | {g[0]:.3f} | {m[0]:.3f} | {j:.3f} | {g[1]:.3f} | {m[1]:.3f} |")


if __name__ == "__main__":
    main()
