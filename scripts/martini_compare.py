#!/usr/bin/env python3
"""HI cubes: MARTINI 3 vs galmass-mock (`hi_bench` example) on the same gas particles; agreement and timings.

Usage (from the repository root):
    python3 -m venv /tmp/martinivenv && /tmp/martinivenv/bin/pip install -r scripts/requirements-martini.txt
    eval "$(cargo xtask env)" && cargo build --release -p galmass-mock --example hi_bench
    /tmp/martinivenv/bin/python scripts/martini_compare.py [--n 10000 100000 1000000] [--martini-max-n 1000000]
        [--repeat 5] [--workdir /tmp/martini_compare] [--bin PATH] [--json OUT.json]

What it does:
- a realistic HI disc of N particles (numpy default_rng(seed)): exponential surface density (scale length 2 kpc, cut
  at 10 kpc), Gaussian vertical profile (sigma 0.2 kpc), rotation curve 150 (1 - exp(-R / 1.2 kpc)) km/s (rising,
  then flat), 10 km/s dispersion in each direction, T = 1e4 K +- 20%, HI masses summing to 1e9 Msun; smoothing
  lengths are the galmass convention, the radius of compact support H = distance to the 32nd nearest other particle
  (`cKDTree.query(x, 33)`, column 32); MARTINI gets `hsm_g = H / 1.384` (its FWHM convention, the factor from its own
  cubic-spline kernel);
- seen at 15 Mpc along n = (sin 60 cos 30, sin 60 sin 30, cos 60) (inclination 60 degrees) in 64 x 64 pixels of 5''
  x 64 channels of 5 km/s, a 10'' Gaussian beam cut at 4 FWHM, the cubic-spline kernel (MARTINI's
  `CubicSplineKernel`, with its adaptive fallback to a Dirac delta and a 6-sigma Gaussian for small kernels), thermal
  lines (`GaussianSpectrum(sigma="thermal")`), no noise;
- geometry: MARTINI looks along +x from the origin at RA = Dec = 0, puts y (east, RA increasing) on the sky's
  horizontal axis with CDELT1 < 0 (array axis 0 grows westwards, towards -y), z (north) on array axis 1, and its
  velocity channels in VRAD with CDELT3 < 0 (channel 0 is the highest velocity); its array is (x, y, channel).
  galmass's cube is (channel, y, x) with x along -e1 (west) and y along e2 (north), e1 x e2 = n, n from the
  observer to the galaxy, so east is to the left as on the sky and in FITS (CDELT1 < 0), and velocity grows with
  the channel index. The script gives MARTINI the particles rotated to (p.n, p.e1, p.e2) (a proper rotation, since
  (n, e1, e2) is right-handed), so MARTINI's east is galmass's -x: MARTINI's array keeps its RA axis, has its
  channel axis reversed and is transposed to (channel, y, x). An asymmetric two-clump source checks this first
  (centroids of each clump in both cubes);
- MARTINI's source is at the distance with a Hubble-flow systemic velocity (h = 0.7, vpeculiar = 0) and its band
  is centred on `source.vsys`; galmass's band is centred on the systemic velocity (centre_kms = 0). MARTINI also
  adds the Hubble flow across the galaxy's depth (H0 * depth, 0.07 km/s per kpc), which galmass does not; a
  diagnostic run with h = 0 (and vpeculiar = 0) removes it;
- agreement: total flux (sum of moment 0 times pixel area over beam area, Jy km/s); moment 0 per pixel, the rms of
  the relative difference over the pixels where both maps reach 1e19.5 cm^-2 (and, second, where both reach 1% of
  galmass's peak); moment 1 (intensity-weighted, every positive voxel, no clip) rms and max difference over the
  same pixels. Moments are computed here the same way for both cubes (galmass's own moment maps are checked
  against them). Diagnostics (at N = --diagnostics-n): h = 0; no beam (kernels and lines alone); a fixed 7 km/s
  line; the two discrete beams (MARTINI integrates the Gaussian over each pixel, galmass samples it at pixel
  centres) on the same unconvolved cube; the two codes' unconvolved cubes under the same beam (MARTINI's adaptive
  kernel is a Dirac delta for FWHM <= 0.5 px and a 6-sigma Gaussian below H = 1.16 px, galmass's a pixel-integrated
  Gaussian below FWHM = 1.16 px); every kernel resolved (H >= 0.7 kpc), where both sample the cubic spline;
- timings, one core, both warm (one run first): MARTINI (numba, ncpu=1, NUMBA_NUM_THREADS=1) from the particle
  arrays to the convolved cube (SPHSource, Martini(...) with its coordinate set-up and pruning,
  insert_source_in_cube, convolve_beam), median of --martini-repeat; hi_bench (`HiSource::from_gas` + `observe`) with
  RAYON_NUM_THREADS=1 and 2, median of --repeat, and its peak memory (`/usr/bin/time -v` maximum resident set size
  and VmHWM, after loading the particles and at the end). Prints Markdown tables for BENCHMARKS.md.
"""
import os

# One thread for every library MARTINI uses (numba's insertion, scipy's FFT, BLAS), before they load.
for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent

DISTANCE_MPC = 15.0
NPIX = 64
PIXEL_ARCSEC = 5.0
CHANNELS = 64
CHANNEL_KMS = 5.0
BEAM_ARCSEC = 10.0
TRUNCATE_FWHM = 4.0
INCLINATION_DEG = 60.0
AZIMUTH_DEG = 30.0
# 10^19.5 cm^-2, exposito2026's mask.
MASK_CM2 = 10**19.5
# Column density per Jy/arcsec^2 km/s (galmass_mock::hi::cube::column_density_cm2_per_jy_arcsec2_kms): an arcsec^2
# at D Mpc holds 2.36e5 D^2 S Msun over (D 1e6 pc / 206264.806)^2.
MSUN_G = 1.988_409_87e33
PC_CM = 3.085_677_581_491_367e18
HYDROGEN_ATOM_MASS_G = 1.673_533e-24
N_PER_JY_ARCSEC2_KMS = 2.36e5 / (1e6 / 206264.80624709636) ** 2 * MSUN_G / (HYDROGEN_ATOM_MASS_G * PC_CM**2)


def default_binary():
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(pathlib.Path(target) / "release" / "examples" / "hi_bench")


def line_of_sight(incl_deg=INCLINATION_DEG, azimuth_deg=AZIMUTH_DEG):
    """n and galmass's sky basis for it (LineOfSight::new: theta, phi of n; e1 = d n / d theta, e2 = e_phi)."""
    th, ph = np.radians(incl_deg), np.radians(azimuth_deg)
    n = np.array([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)])
    e1 = np.array([np.cos(th) * np.cos(ph), np.cos(th) * np.sin(ph), -np.sin(th)])
    e2 = np.array([-np.sin(ph), np.cos(ph), 0.0])
    return n, e1, e2


def smoothing_lengths(pos, k=32):
    """Radius of compact support: distance to the k-th nearest other particle (galmass convention)."""
    d, _ = cKDTree(pos).query(pos, k + 1, workers=-1)
    return d[:, k]


def gas_disc(n, seed=1, m_hi_total=1e9, rd=2.0, rmax=10.0, z_sigma=0.2, vflat=150.0, r_turn=1.2, sigma_v=10.0):
    """(n, 9) columns x y z vx vy vz m_hi h T of an exponential HI disc in its own frame (L along +z)."""
    rng = np.random.default_rng(seed)
    r = np.empty(0)
    while r.size < n:  # gamma(2) radii (exponential surface density), cut at rmax
        draw = -rd * np.log(rng.uniform(size=2 * n) * rng.uniform(size=2 * n))
        r = np.concatenate([r, draw[draw < rmax]])
    r = r[:n]
    phi = rng.uniform(0.0, 2 * np.pi, n)
    z = rng.normal(0.0, z_sigma, n)
    vc = vflat * (1.0 - np.exp(-r / r_turn))
    v_r = rng.normal(0.0, sigma_v, n)
    v_phi = vc + rng.normal(0.0, sigma_v, n)
    v_z = rng.normal(0.0, sigma_v, n)
    cols = np.empty((n, 9))
    cols[:, 0] = r * np.cos(phi)
    cols[:, 1] = r * np.sin(phi)
    cols[:, 2] = z
    cols[:, 3] = v_r * np.cos(phi) - v_phi * np.sin(phi)
    cols[:, 4] = v_r * np.sin(phi) + v_phi * np.cos(phi)
    cols[:, 5] = v_z
    cols[:, 6] = m_hi_total / n
    cols[:, 7] = smoothing_lengths(cols[:, :3])
    cols[:, 8] = 1e4 * (1.0 + 0.2 * rng.uniform(-1.0, 1.0, n))
    return cols


def two_clumps(n_each=300, seed=2):
    """An asymmetric test source in the frame of the line of sight: clump A at +4 kpc along e1 receding at 60 km/s,
    clump B at -2 kpc along e1 and +3 kpc along e2 approaching at 90 km/s (blobs of 0.3 kpc, H = 0.6 kpc)."""
    n, e1, e2 = line_of_sight()
    rng = np.random.default_rng(seed)
    rows = []
    for (a, b, v) in [(4.0, 0.0, 60.0), (-2.0, 3.0, -90.0)]:
        local = rng.normal(0.0, 0.3, (n_each, 3))
        pos = (a + local[:, 0])[:, None] * e1 + (b + local[:, 1])[:, None] * e2 + local[:, 2][:, None] * n
        vel = np.tile(v * n, (n_each, 1))
        block = np.empty((n_each, 9))
        block[:, :3], block[:, 3:6] = pos, vel
        block[:, 6], block[:, 7], block[:, 8] = 1e8 / n_each, 0.6, 1e4
        rows.append(block)
    return np.concatenate(rows)


def max_rss_kib(stderr):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    return int(m.group(1)) if m else None


def run_hi_bench(binary, particles, out, threads, repeat, beam_arcsec=BEAM_ARCSEC, line="thermal"):
    n, _, _ = line_of_sight()
    cmd = [
        binary, "--particles", str(particles), "--out", str(out), "--los", ",".join(f"{v:.17g}" for v in n),
        "--distance-mpc", str(DISTANCE_MPC), "--npix", str(NPIX), "--pixel-arcsec", str(PIXEL_ARCSEC),
        "--channels", str(CHANNELS), "--channel-kms", str(CHANNEL_KMS), "--beam-arcsec", str(beam_arcsec),
        "--truncate", str(TRUNCATE_FWHM), "--kernel", "cubic-spline", "--line", line, "--repeat", str(repeat),
        "--streamed",  # what `galmass maps hi` runs: the source made and rendered in chunks
    ]
    timer = ["/usr/bin/time", "-v"] if os.path.exists("/usr/bin/time") else []
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    proc = subprocess.run(timer + cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"hi_bench failed ({proc.returncode}): {proc.stderr[-2000:]}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    info["max_rss_kib"] = max_rss_kib(proc.stderr)
    shape = info["shape_kyx"]
    info["cube"] = np.fromfile(out / "cube.f64", dtype="<f8").reshape(shape)
    info["mom0_map"] = np.fromfile(out / "mom0.f64", dtype="<f8").reshape(shape[1:])
    info["mom1_map"] = np.fromfile(out / "mom1.f64", dtype="<f8").reshape(shape[1:])
    return info


def martini_cube(cols, beam=True, line="thermal", hubble_h=0.7):
    """MARTINI's cube of the particles `cols` (frame coordinates) in galmass's layout (channel, y, x), with its
    timings per stage. Units: Jy/beam with a beam, Jy/arcsec^2 without."""
    import astropy.units as U
    from martini import DataCube, Martini
    from martini.beams import GaussianBeam
    from martini.sources import SPHSource
    from martini.spectral_models import GaussianSpectrum
    from martini.sph_kernels import CubicSplineKernel, _CubicSplineKernel

    n, e1, e2 = line_of_sight()
    basis = np.stack([n, e1, e2])  # rows: MARTINI's x (line of sight), y (east), z (north)
    support_per_fwhm = _CubicSplineKernel().size_in_fwhm  # 1.384 (H per FWHM)
    t0 = time.perf_counter()
    source = SPHSource(
        distance=DISTANCE_MPC * U.Mpc,
        vpeculiar=0.0 * U.km / U.s,
        h=hubble_h,
        T_g=cols[:, 8] * U.K,
        mHI_g=cols[:, 6] * U.Msun,
        xyz_g=(cols[:, 0:3] @ basis.T) * U.kpc,
        vxyz_g=(cols[:, 3:6] @ basis.T) * U.km / U.s,
        hsm_g=(cols[:, 7] / support_per_fwhm) * U.kpc,
        coordinate_axis=1,
    )
    datacube = DataCube(
        n_px_x=NPIX,
        n_px_y=NPIX,
        n_channels=CHANNELS,
        px_size=PIXEL_ARCSEC * U.arcsec,
        channel_width=CHANNEL_KMS * U.km / U.s,
        spectral_centre=source.vsys,
    )
    gbeam = (
        GaussianBeam(bmaj=BEAM_ARCSEC * U.arcsec, bmin=BEAM_ARCSEC * U.arcsec, bpa=0 * U.deg, truncate=TRUNCATE_FWHM)
        if beam
        else None
    )
    sigma = "thermal" if line == "thermal" else float(line) * U.km / U.s
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = Martini(
            source=source,
            datacube=datacube,
            beam=gbeam,
            noise=None,
            sph_kernel=CubicSplineKernel(),
            spectral_model=GaussianSpectrum(sigma=sigma),
            quiet=True,
        )
        t2 = time.perf_counter()
        m.insert_source_in_cube(ncpu=1, progressbar=False)
        t3 = time.perf_counter()
        if beam:
            m.convolve_beam()
        t4 = time.perf_counter()
    unit = U.Jy / U.beam if beam else U.Jy / U.arcsec**2
    arr = m.datacube._array.to_value(unit)  # (x: RA pixel, y: Dec pixel, channel), padding dropped
    arr = arr[:, :, ::-1]  # RA pixels grow westwards as galmass's x (-e1); velocity growing with the channel
    cube = np.ascontiguousarray(np.transpose(arr, (2, 1, 0)))
    kernel_counts = np.bincount(m.sph_kernel.kernel_indices + 1, minlength=4)  # -1 none, 0 spline, 1 delta, 2 gauss
    timings = {
        "source_s": t1 - t0,
        "init_s": t2 - t1,
        "insert_s": t3 - t2,
        "convolve_s": t4 - t3,
        "total_s": t4 - t0,
        "kernels_spline_delta_gauss": kernel_counts[1:].tolist(),
    }
    return cube, timings


def martini_beam_kernel():
    """MARTINI's discrete beam (GaussianBeam.init_kernel: the Gaussian integrated over each pixel, square cut)."""
    import astropy.units as U
    from martini import DataCube
    from martini.beams import GaussianBeam

    dc = DataCube(n_px_x=NPIX, n_px_y=NPIX, n_channels=1, px_size=PIXEL_ARCSEC * U.arcsec,
                  channel_width=CHANNEL_KMS * U.km / U.s)
    beam = GaussianBeam(bmaj=BEAM_ARCSEC * U.arcsec, bmin=BEAM_ARCSEC * U.arcsec, bpa=0 * U.deg,
                        truncate=TRUNCATE_FWHM)
    beam.init_kernel(dc)
    return beam.kernel.to_value(U.dimensionless_unscaled)


def galmass_beam_kernel():
    """galmass's discrete beam (GaussianBeam::kernel: sampled at pixel centres, cut at TRUNCATE_FWHM, sum 1)."""
    sigma = BEAM_ARCSEC / 2.354820045030949
    half = int(np.floor(TRUNCATE_FWHM * 2.354820045030949 * sigma / PIXEL_ARCSEC))
    y, x = np.mgrid[-half : half + 1, -half : half + 1] * PIXEL_ARCSEC
    k = np.exp(-0.5 * (x**2 + y**2) / sigma**2)
    k[x**2 + y**2 > (TRUNCATE_FWHM * BEAM_ARCSEC) ** 2] = 0.0
    return k / k.sum()


def convolve_jy_beam(cube_jy_arcsec2, kernel):
    """Each channel of an unconvolved cube (Jy/arcsec^2) convolved with `kernel`, in Jy/beam (zero padding)."""
    from scipy.signal import fftconvolve

    area = np.pi * BEAM_ARCSEC**2 / (4 * np.log(2))
    return np.stack([fftconvolve(plane, kernel, mode="same") for plane in cube_jy_arcsec2]) * area


def kernel_variance_px2(kernel):
    """Second moment along one axis of a discrete beam, in pixels^2."""
    half = kernel.shape[0] // 2
    x = np.arange(kernel.shape[0]) - half
    return float((kernel.sum(axis=0) * x**2).sum() / kernel.sum())


def moments(cube):
    """Moment 0 (sum S dv) and moment 1 (every positive voxel) of a (channel, y, x) cube, NaN where mom0 <= 0."""
    v = -0.5 * CHANNELS * CHANNEL_KMS + (np.arange(CHANNELS) + 0.5) * CHANNEL_KMS
    mom0 = cube.sum(axis=0) * CHANNEL_KMS
    pos = np.where(cube > 0, cube, 0.0)
    w = pos.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mom1 = np.where(w > 0, (pos * v[:, None, None]).sum(axis=0) / w, np.nan)
    return mom0, mom1


def compare(g, m, beam=True):
    """Agreement numbers of galmass's cube g and MARTINI's m (both (channel, y, x), the same unit)."""
    pixel_area = PIXEL_ARCSEC**2
    beam_area = np.pi * BEAM_ARCSEC**2 / (4 * np.log(2)) if beam else 1.0
    g0, g1 = moments(g)
    m0, m1 = moments(m)
    flux_g = g0.sum() * pixel_area / beam_area
    flux_m = m0.sum() * pixel_area / beam_area
    n_per_mom0 = N_PER_JY_ARCSEC2_KMS / beam_area
    out = {
        "flux_galmass_jy_kms": flux_g,
        "flux_martini_jy_kms": flux_m,
        "flux_ratio": flux_g / flux_m,
        "cube_max_abs_diff_over_peak": np.abs(g - m).max() / m.max(),
    }
    for name, mask in [
        ("nhi", (g0 * n_per_mom0 >= MASK_CM2) & (m0 * n_per_mom0 >= MASK_CM2)),
        ("peak1pc", (g0 >= 0.01 * g0.max()) & (m0 >= 0.01 * g0.max())),
    ]:
        rel = (g0[mask] - m0[mask]) / m0[mask]
        dv = g1[mask] - m1[mask]
        out[name] = {
            "pixels": int(mask.sum()),
            "mom0_rel_rms": float(np.sqrt(np.mean(rel**2))),
            "mom0_rel_mean": float(np.mean(rel)),
            "mom0_rel_max": float(np.abs(rel).max()),
            "mom1_rms_kms": float(np.sqrt(np.mean(dv**2))),
            "mom1_mean_kms": float(np.mean(dv)),
            "mom1_max_kms": float(np.abs(dv).max()),
        }
    return out


def centroid(cube, half):
    """Flux-weighted (x px, y px, v km/s) of the part of the cube with x < NPIX/2 (half 0) or >= NPIX/2 (half 1)."""
    c = cube.copy()
    if half == 0:
        c[:, :, NPIX // 2 :] = 0
    else:
        c[:, :, : NPIX // 2] = 0
    c = np.clip(c, 0, None)
    k, y, x = np.indices(c.shape)
    v = -0.5 * CHANNELS * CHANNEL_KMS + (k + 0.5) * CHANNEL_KMS
    w = c.sum()
    return [float((c * x).sum() / w), float((c * y).sum() / w), float((c * v).sum() / w)]


def fmt_time(s):
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--martini-max-n", type=int, default=1_000_000, help="run MARTINI up to this many particles")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--martini-repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default="/tmp/martini_compare")
    ap.add_argument("--bin", default=default_binary())
    ap.add_argument("--json", default=None, help="write every number here")
    ap.add_argument("--diagnostics-n", type=int, default=100_000, help="particle count of the diagnostic runs")
    ap.add_argument("--skip-diagnostics", action="store_true")
    args = ap.parse_args()
    import astropy
    import martini
    import numba
    import scipy

    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cpus; martini {martini.__version__}, "
        f"numba {numba.__version__}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"astropy {astropy.__version__}"
    )
    report = {"config": {
        "distance_mpc": DISTANCE_MPC, "npix": NPIX, "pixel_arcsec": PIXEL_ARCSEC, "channels": CHANNELS,
        "channel_kms": CHANNEL_KMS, "beam_arcsec": BEAM_ARCSEC, "truncate_fwhm": TRUNCATE_FWHM,
        "inclination_deg": INCLINATION_DEG, "azimuth_deg": AZIMUTH_DEG}}

    # 1. Geometry on an asymmetric source.
    clumps = two_clumps()
    path = work / "clumps.f64"
    clumps.astype("<f8").tofile(path)
    g = run_hi_bench(args.bin, path, work / "clumps_out", 1, 1)
    n, e1, e2 = line_of_sight()
    if not (np.allclose(g["e1"], e1, atol=1e-12) and np.allclose(g["e2"], e2, atol=1e-12)):
        raise RuntimeError(f"sky basis mismatch: hi_bench e1 {g['e1']} e2 {g['e2']}, script e1 {e1} e2 {e2}")
    m, _ = martini_cube(clumps)
    geo = {
        "galmass_centroids_x_y_v": [centroid(g["cube"], h) for h in (0, 1)],
        "martini_centroids_x_y_v": [centroid(m, h) for h in (0, 1)],
        "agreement": compare(g["cube"], m),
    }
    report["geometry"] = geo
    print("## geometry check (two clumps: B at x < 32, A at x >= 32)")
    for name in ("galmass", "martini"):
        print(f"  {name}: " + "; ".join(
            f"x {c[0]:.2f} px, y {c[1]:.2f} px, v {c[2]:+.2f} km/s" for c in geo[f"{name}_centroids_x_y_v"]))
    a = geo["agreement"]
    print(f"  flux ratio {a['flux_ratio']:.5f}, max |diff| / peak {a['cube_max_abs_diff_over_peak']:.3e}")

    # 2. Discs: agreement and timings.
    rows = []
    warmed = False
    for n_part in args.n:
        cols = gas_disc(n_part, seed=args.seed)
        path = work / f"disc_{n_part}.f64"
        cols.astype("<f8").tofile(path)
        row = {"n": n_part, "h_median_kpc": float(np.median(cols[:, 7]))}
        for threads in (1, 2):
            info = run_hi_bench(args.bin, path, work / f"disc_{n_part}_t{threads}", threads,
                                args.repeat if n_part < 1_000_000 else max(2, args.repeat // 2))
            row[f"galmass_t{threads}"] = {k: v for k, v in info.items() if not isinstance(v, np.ndarray)}
            g = info
        # galmass's own moment maps against the ones computed here.
        mom0_here, mom1_here = moments(g["cube"])
        ok = np.isfinite(g["mom1_map"]) & np.isfinite(mom1_here)
        row["galmass_moments_vs_script"] = {
            "mom0_max_rel": float(np.nanmax(np.abs(g["mom0_map"] - mom0_here)) / np.nanmax(mom0_here)),
            "mom1_max_kms": float(np.abs(g["mom1_map"][ok] - mom1_here[ok]).max()),
        }
        if n_part <= args.martini_max_n:
            if not warmed:
                martini_cube(cols)  # warm: numba compiles on the first call (once per process)
                warmed = True
            n_runs = args.martini_repeat if n_part < 1_000_000 else max(1, args.martini_repeat // 2)
            runs = [martini_cube(cols) for _ in range(n_runs)]
            m = runs[-1][0]
            t = {k: float(np.median([r[1][k] for r in runs])) for k in ("source_s", "init_s", "insert_s",
                                                                        "convolve_s", "total_s")}
            t["total_s_min"] = float(min(r[1]["total_s"] for r in runs))
            t["kernels_spline_delta_gauss"] = runs[-1][1]["kernels_spline_delta_gauss"]
            t["process_max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            row["martini"] = t
            row["agreement"] = compare(g["cube"], m)
            if not args.skip_diagnostics and n_part == args.diagnostics_n:
                diag = {}
                m_h0, _ = martini_cube(cols, hubble_h=0.0)
                diag["no_hubble_flow_in_depth"] = compare(g["cube"], m_h0)
                g_nb = run_hi_bench(args.bin, path, work / f"disc_{n_part}_nobeam", 1, 1, beam_arcsec=0)
                m_nb, _ = martini_cube(cols, beam=False, hubble_h=0.0)
                diag["no_beam_no_hubble"] = compare(g_nb["cube"], m_nb, beam=False)
                g_7 = run_hi_bench(args.bin, path, work / f"disc_{n_part}_7kms", 1, 1, line="7")
                m_7, _ = martini_cube(cols, line="7")
                diag["fixed_7kms"] = compare(g_7["cube"], m_7)
                # The two beam conventions on the same (galmass) unconvolved cube, and the two codes' unconvolved
                # cubes under the same (galmass) beam: which part of the difference is the beam, which the kernel.
                kg, km = galmass_beam_kernel(), martini_beam_kernel()
                diag["same_cube_galmass_vs_martini_beam"] = compare(convolve_jy_beam(g_nb["cube"], kg),
                                                                    convolve_jy_beam(g_nb["cube"], km))
                diag["same_beam_galmass_vs_martini_kernels"] = compare(convolve_jy_beam(g_nb["cube"], kg),
                                                                       convolve_jy_beam(m_nb, kg))
                diag["beam_variance_px2_galmass_martini"] = [kernel_variance_px2(kg), kernel_variance_px2(km)]
                # Every kernel resolved (H >= 0.7 kpc = 1.9 px): both codes sample the cubic spline at pixel centres.
                smooth = cols.copy()
                smooth[:, 7] = np.maximum(4 * cols[:, 7], 0.7)
                spath = work / f"disc_{n_part}_resolved.f64"
                smooth.astype("<f8").tofile(spath)
                g_r = run_hi_bench(args.bin, spath, work / f"disc_{n_part}_resolved", 1, 1, beam_arcsec=0)
                m_r, t_r = martini_cube(smooth, beam=False, hubble_h=0.0)
                diag["resolved_kernels_no_beam_no_hubble"] = compare(g_r["cube"], m_r, beam=False)
                diag["resolved_kernels_no_beam_no_hubble"]["kernels_spline_delta_gauss"] = t_r[
                    "kernels_spline_delta_gauss"]
                row["diagnostics"] = diag
        rows.append(row)
        print(f"## N = {n_part}: median H = {row['h_median_kpc']:.3f} kpc", flush=True)
    report["discs"] = rows

    # 3. Tables.
    print("\n| particles | MARTINI 1 thread, median (min) | galmass 1 thread | ratio | galmass 2 threads |"
          " ratio (vs MARTINI) |"
          " 2-thread scaling | galmass peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        g1, g2 = r["galmass_t1"], r["galmass_t2"]
        mt = r.get("martini", {}).get("total_s")
        ratio1 = f"{mt / g1['total_s_median']:.0f}x" if mt else "-"
        ratio2 = f"{mt / g2['total_s_median']:.0f}x" if mt else "-"
        mmin = r.get("martini", {}).get("total_s_min")
        print(f"| {r['n']:.0e} | {fmt_time(mt) + ' (' + fmt_time(mmin) + ')' if mt else '-'} | "
              f"{fmt_time(g1['total_s_median'])} ({fmt_time(g1['total_s_min'])}) | {ratio1} | "
              f"{fmt_time(g2['total_s_median'])} ({fmt_time(g2['total_s_min'])}) | {ratio2} | "
              f"{g1['total_s_median'] / g2['total_s_median']:.2f}x | "
              f"{(g1['max_rss_kib'] or 0) / 1024:.1f} MiB |")
    print("\n| particles | stage times (median) |")
    print("|---|---|")
    for r in rows:
        g1 = r["galmass_t1"]
        text = (f"galmass 1 thread: from_gas {fmt_time(g1['source_s_median'])}, observe "
                f"{fmt_time(g1['observe_s_median'])} (insertion {fmt_time(g1['render_s_median'])}); "
                f"VmHWM after load {g1['vm_hwm_after_load_kib'] / 1024:.1f} MiB, at end "
                f"{g1['vm_hwm_kib'] / 1024:.1f} MiB")
        if "martini" in r:
            mt = r["martini"]
            text += (f"; MARTINI: source {fmt_time(mt['source_s'])}, Martini() {fmt_time(mt['init_s'])}, insert "
                     f"{fmt_time(mt['insert_s'])}, convolve {fmt_time(mt['convolve_s'])}; process max RSS "
                     f"{mt['process_max_rss_kib'] / 1024:.0f} MiB; kernels "
                     f"spline/delta/Gaussian {mt['kernels_spline_delta_gauss']}")
        print(f"| {r['n']:.0e} | {text} |")
    print("\n| particles | case | flux galmass / MARTINI | mask | pixels | mom0 rel. rms (mean, max) |"
          " mom1 rms / max (mean) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cases = [("main", r.get("agreement"))] + list(r.get("diagnostics", {}).items())
        for case, a in cases:
            if not isinstance(a, dict):
                continue
            for mask in ("nhi", "peak1pc"):
                s = a[mask]
                print(f"| {r['n']:.0e} | {case} | {a['flux_ratio']:.4f} | {mask} | {s['pixels']} | "
                      f"{s['mom0_rel_rms'] * 100:.2f}% ({s['mom0_rel_mean'] * 100:+.2f}%, "
                      f"{s['mom0_rel_max'] * 100:.1f}%) | {s['mom1_rms_kms']:.3f} / {s['mom1_max_kms']:.2f} km/s "
                      f"({s['mom1_mean_kms']:+.3f}) |")
    for r in rows:
        d = r.get("diagnostics", {})
        if "beam_variance_px2_galmass_martini" in d:
            vg, vm = d["beam_variance_px2_galmass_martini"]
            print(f"\nbeam variance per axis: galmass {vg:.4f} px^2 (FWHM {2.3548 * np.sqrt(vg) * PIXEL_ARCSEC:.2f}''), "
                  f"MARTINI {vm:.4f} px^2 (FWHM {2.3548 * np.sqrt(vm) * PIXEL_ARCSEC:.2f}''); resolved-kernel run "
                  f"kernels spline/delta/Gaussian {d['resolved_kernels_no_beam_no_hubble']['kernels_spline_delta_gauss']}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
