#!/usr/bin/env python3
"""galmass_mock::optical::sph::render_sph against pynbody 2.8's SPH image renderer on the same particles and
smoothing lengths (issue #13).

Usage (from the repository root):
    python3 -m venv /tmp/pynbodyvenv && /tmp/pynbodyvenv/bin/pip install -r scripts/requirements-pynbody.txt
    eval "$(cargo xtask env)" && cargo build --release -p galmass-mock --example sph_bench
    /tmp/pynbodyvenv/bin/python scripts/pynbody_sph_compare.py [--n 100000] [--npix 300] [--half-width-rhsm 3]
        [--repeat 5] [--seed 1] [--work /tmp/sph_compare] [--bench PATH]

What it does:
1. Draws a seeded galaxy (numpy default_rng): a Plummer bulge (30% of the stars, a = 0.8 kpc) and an exponential
   disc (Rd = 3 kpc, sech^2 height 0.3 kpc), inclined by 60 degrees about x, every star cut at 30 kpc; each star's
   weight (an r-band luminosity) uniform in [0.5, 1.5] x 1e4 Lsun. R_hsm is the 3-D half-mass radius (equal masses).
2. Runs the Rust example `sph_bench --particles` (RAYON_NUM_THREADS=1, then 2): it computes the smoothing lengths
   (radius of compact support enclosing 32 other stars, 3-D), renders along z over +-half-width-rhsm R_hsm on npix
   pixels and writes h.f64 and image.f64 (Lsun per pixel).
3. Renders the same particles with pynbody.sph.render_image with those smoothing lengths. pynbody's cubic spline
   (pynbody/sph/kernels.py, CubicSplineKernel: max_d = 2, W = (1 - 3/2 q^2 + 3/4 q^3) / (pi h^3) for q = r / h < 1)
   has its compact support at 2 `smooth`, so smooth = H / 2. mass = weight, rho = 1 Msol kpc^-3 and
   quantity 'rho' give sum_j w_j W2D(r, h_j), a surface density (out_units Msol kpc^-2: the projected renderer);
   times the pixel area it is weight per pixel. approximate_fast=False, denoise=False; one thread (threaded=False),
   then threaded with config['number_of_threads'] = 2.
4. Prints and writes WORK/compare.json: each image's total against the other and against the total weight, per-pixel
   relative differences (pixels holding 1e-3 of the brightest pixel's value or more, and all lit pixels
   flux-weighted), the same after both images are block-summed to 60 x 60, and timings. pynbody's renderer looks
   its projected kernel up without interpolation, by the lower end of 201 bins in d^2, so a resolved kernel
   integrates to 1.0100 instead of 1 (`pynbody_kernel_integral`, computed from pynbody's own table): its images are
   1% too bright. The totals and pixels are compared raw and with pynbody's image divided by that integral; exits
   1 when the normalised totals differ by more than 0.5%.

pynbody samples each projected kernel at the pixel centres without renormalising, and a kernel whose support fits in
one pixel puts its central value in its pixel; galmass normalises each particle's weights over its footprint and
integrates a Gaussian of the same FWHM over the pixels for kernels smaller than 1.16 pixels (FWHM). The per-pixel
differences below come from that, not from the kernels, which are the same function.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time
import warnings

import numpy as np
import pynbody


def galaxy(n, seed):
    rng = np.random.default_rng(seed)
    n_bulge = int(0.3 * n)
    n_disc = n - n_bulge
    pos = []
    # Plummer bulge, a = 0.8 kpc.
    u = rng.random(4 * n_bulge)
    r = 0.8 / np.sqrt(u ** (-2.0 / 3.0) - 1.0)
    r = r[r < 30.0][:n_bulge]
    cos_t = rng.uniform(-1, 1, r.size)
    phi = rng.uniform(0, 2 * np.pi, r.size)
    s = np.sqrt(1 - cos_t ** 2)
    pos.append(np.column_stack([r * s * np.cos(phi), r * s * np.sin(phi), r * cos_t]))
    # Exponential disc, Rd = 3 kpc (radius from a Gamma(2) draw), sech^2 vertical profile with z0 = 0.3 kpc.
    rr = rng.gamma(2.0, 3.0, 4 * n_disc)
    z = 0.3 * np.arctanh(rng.uniform(-1, 1, rr.size))
    keep = np.hypot(rr, z) < 30.0
    rr, z = rr[keep][:n_disc], z[keep][:n_disc]
    phi = rng.uniform(0, 2 * np.pi, rr.size)
    disc = np.column_stack([rr * np.cos(phi), rr * np.sin(phi), z])
    inc = np.radians(60.0)
    rot = np.array([[1, 0, 0], [0, np.cos(inc), -np.sin(inc)], [0, np.sin(inc), np.cos(inc)]])
    pos.append(disc @ rot.T)
    pos = np.concatenate(pos)
    weight = rng.uniform(0.5, 1.5, len(pos)) * 1e4
    return pos, weight


def run_rust(bench, particles, out, npix, half_width, repeat, threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    cmd = [str(bench), "--particles", str(particles), "--out", str(out), "--npix", str(npix),
           "--half-width", repr(half_width), "--neighbours", "32", "--repeat", str(repeat)]
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def render_pynbody(pos, h, weight, npix, half_width, threads):
    sim = pynbody.new(star=len(pos))
    sim["pos"] = pynbody.array.SimArray(pos, "kpc")
    sim["mass"] = pynbody.array.SimArray(weight, "Msol")
    sim["rho"] = pynbody.array.SimArray(np.ones(len(pos)), "Msol kpc^-3")
    sim["smooth"] = pynbody.array.SimArray(h / 2.0, "kpc")
    if threads > 1:
        pynbody.config["number_of_threads"] = threads
    image = pynbody.sph.render_image(sim, quantity="rho", width=2.0 * half_width, resolution=npix,
                                     out_units="Msol kpc^-2", kernel="CubicSpline", approximate_fast=False,
                                     denoise=False, threaded=threads > 1)
    pixel = 2.0 * half_width / npix
    return np.asarray(image, dtype=np.float64) * pixel ** 2


def pynbody_kernel_norm():
    """The integral of pynbody's projected cubic spline as its C renderer looks it up (h = 1, support 2).

    pynbody/sph/_render.pyx `get_kernel` takes sample `floor(num_samples d^2 / (2h)^2)` of the table that
    kernels.py `get_samples` fills at d^2 = 0, 0.02, ..., 4.00 (num_samples = 201), without interpolation: each
    annulus of width 4 / 201 in d^2 gets the kernel at its inner edge, so a resolved kernel integrates to this sum.
    """
    samples = pynbody.sph.kernels.create_kernel("CubicSpline").projection().get_samples(np.float64)
    return float(np.pi * samples.sum() * 4.0 / len(samples))


def timed(repeat, f):
    out = f()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return out, times


def pixel_stats(a, b, floor_fraction=1e-3):
    """Relative differences of a against b on the pixels where b >= floor_fraction max(b)."""
    mask = b >= floor_fraction * b.max()
    rel = np.abs(a[mask] - b[mask]) / b[mask]
    lit = b > 0
    return {
        "pixels_compared": int(mask.sum()),
        "floor_fraction_of_max": floor_fraction,
        "median_abs_rel": float(np.median(rel)),
        "p95_abs_rel": float(np.percentile(rel, 95)),
        "p99_abs_rel": float(np.percentile(rel, 99)),
        "max_abs_rel": float(rel.max()),
        "flux_weighted_abs_rel": float(np.abs(a[lit] - b[lit]).sum() / b[lit].sum()),
        "pixels_lit_in_one_only": int(((a > 0) != (b > 0)).sum()),
    }


def block_sum(image, npix):
    f = image.shape[0] // npix
    return image.reshape(npix, f, npix, f).sum(axis=(1, 3))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--npix", type=int, default=300)
    parser.add_argument("--half-width-rhsm", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default="/tmp/sph_compare")
    parser.add_argument("--bench", default=None, help="the sph_bench binary (default: $CARGO_TARGET_DIR/release/...)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    bench = pathlib.Path(args.bench or pathlib.Path(target) / "release" / "examples" / "sph_bench")

    pos, weight = galaxy(args.n, args.seed)
    r_hsm = float(np.median(np.linalg.norm(pos, axis=1)))
    half_width = args.half_width_rhsm * r_hsm
    particles = work / "particles.f64"
    np.column_stack([pos, weight]).astype("<f8").tofile(particles)

    rust = {}
    for threads in (1, 2):
        rust[threads] = run_rust(bench, particles, work / f"rust{threads}", args.npix, half_width, args.repeat,
                                 threads)
    image_rust = np.fromfile(work / "rust1" / "image.f64", dtype="<f8").reshape(args.npix, args.npix)
    image_rust2 = np.fromfile(work / "rust2" / "image.f64", dtype="<f8").reshape(args.npix, args.npix)
    h = np.fromfile(work / "rust1" / "h.f64", dtype="<f8")

    image_pyn, t_pyn1 = timed(args.repeat, lambda: render_pynbody(pos, h, weight, args.npix, half_width, 1))
    image_pyn2, t_pyn2 = timed(args.repeat, lambda: render_pynbody(pos, h, weight, args.npix, half_width, 2))

    # Stars whose whole kernel lies inside the field: what both images should hold at least.
    inside = (np.abs(pos[:, 0]) + h < half_width) & (np.abs(pos[:, 1]) + h < half_width)
    pixel = 2 * half_width / args.npix
    norm = pynbody_kernel_norm()
    total_rust, total_pyn = float(image_rust.sum()), float(image_pyn.sum())
    flux_rel_raw = abs(total_rust - total_pyn) / total_pyn
    # pynbody's images divided by its kernel's integral (the same for every resolved particle).
    image_pyn_n = image_pyn / norm
    flux_rel = abs(total_rust - total_pyn / norm) / (total_pyn / norm)
    coarse = 60 if args.npix % 60 == 0 else None
    report = {
        "pynbody": pynbody.__version__,
        "n_stars": len(pos),
        "npix": args.npix,
        "r_hsm_kpc": r_hsm,
        "half_width_kpc": half_width,
        "pixel_kpc": pixel,
        "h_support_px": {"min": float(h.min() / pixel), "median": float(np.median(h) / pixel),
                         "frac_below_1.6": float(np.mean(h / pixel < 1.6)),
                         "frac_below_1": float(np.mean(h / pixel < 1.0))},
        "total_weight": float(weight.sum()),
        "weight_of_stars_with_kernels_inside": float(weight[inside].sum()),
        "image_sum_rust": total_rust,
        "image_sum_pynbody": total_pyn,
        "image_sum_rel_diff_raw": flux_rel_raw,
        "pynbody_kernel_integral": norm,
        "image_sum_rel_diff_pynbody_normalised": flux_rel,
        "rust_threads_bit_identical": bool(np.array_equal(image_rust, image_rust2)),
        "pynbody_threaded_max_rel_diff": float(np.abs(image_pyn2 - image_pyn).max() / image_pyn.max()),
        "per_pixel_raw": pixel_stats(image_rust, image_pyn),
        "per_pixel_pynbody_normalised": pixel_stats(image_rust, image_pyn_n),
        "per_pixel_60_pynbody_normalised": (pixel_stats(block_sum(image_rust, coarse), block_sum(image_pyn_n, coarse))
                                            if coarse else None),
        "time_s": {
            "rust_1_thread": {"median": rust[1]["render_sph_s"]["median"], "min": rust[1]["render_sph_s"]["min"]},
            "rust_2_threads": {"median": rust[2]["render_sph_s"]["median"], "min": rust[2]["render_sph_s"]["min"]},
            "pynbody_1_thread": {"median": float(np.median(t_pyn1)), "min": float(np.min(t_pyn1))},
            "pynbody_2_threads": {"median": float(np.median(t_pyn2)), "min": float(np.min(t_pyn2))},
            "rust_smoothing_lengths": rust[1]["smoothing_lengths_s"],
        },
    }
    t = report["time_s"]
    report["speed_ratio_1_thread_pynbody_over_rust"] = t["pynbody_1_thread"]["median"] / t["rust_1_thread"]["median"]
    report["rust_scaling_1_over_2_threads"] = t["rust_1_thread"]["median"] / t["rust_2_threads"]["median"]
    report["pynbody_scaling_1_over_2_threads"] = t["pynbody_1_thread"]["median"] / t["pynbody_2_threads"]["median"]
    (work / "compare.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    if flux_rel > 0.005:
        print(f"FAIL: totals differ by {flux_rel:.4f} (> 0.5%) after pynbody's kernel integral", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
