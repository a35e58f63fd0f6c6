#!/usr/bin/env python3
"""Rotation curves from a real HI cube: 3D-Barolo's 3DFIT (pyBBarolo 1.8.0) vs `galmass estimate rc`, ring by ring.

Usage (from the repository root):
    apt-get install -y libfftw3-dev wcslib-dev libcfitsio-dev     # plus g++, make, pkg-config (already here)
    python3 -m venv /tmp/bbarolovenv && /tmp/bbarolovenv/bin/pip install -r scripts/requirements-bbarolo.txt
    eval "$(cargo xtask env)" && cargo build --release -p galmass-cli        # the `galmass` binary (optional)
    /tmp/bbarolovenv/bin/python scripts/bbarolo_compare.py [--cube FITS] [--distance-mpc 8.9]
        [--workdir /tmp/bbarolo_compare] [--bin PATH] [--bbarolo-only] [--no-errors] [--threads 1] [--json OUT.json]

What it does:
- BBarolo: pyBBarolo's wheel compiles BBarolo's C++ (configure + make, ~1.5 min; its configure requires CFITSIO,
  FFTW3 and WCSLIB and exits without them, not tried here) and ships the `BBarolo` executable inside the package
  (pyBBarolo/BBarolo, the same code as its ctypes library). The script writes a parameter file and runs that
  executable: 3DFIT, FREE = VROT VDISP INC PA, every initial guess (ring count and spacing, centre, VSYS, VROT, INC,
  PA) left to BBarolo's own estimate from its SEARCH mask, centre and VSYS fixed at that estimate, NORM AZIM, TWOSTAGE
  (stage 2 regularises INC and PA, here to constants, and refits VROT and VDISP), FLAGERRORS (VROT errors; off with
  --no-errors, ~10x faster), DISTANCE for the kpc column, one thread. It parses rings_final2.txt (stage 2; stage 1,
  rings_final1.txt, with INC and PA free per ring, goes into the JSON too).
- The cube goes to BBarolo as a copy without the GIPSY keywords BMMAJ/BMMIN/BMPA (data untouched): BBarolo 1.8
  reads BMAJ (degrees) first, then, when the BMMAJ string holds a Fortran 'D' exponent (0.574...D+02, arcsec), it
  divides BMAJ by 3600 again, so this WSRT cube's 57'' beam became 0.016'' and 3DFIT made 39121 rings and aborted
  ("GALMOD ERROR: Radius separation too small"). Its DATE-OBS warning (a float) is harmless.
- galmass: `BIN estimate rc --hi-fits CUBE --distance-mpc D --json` on the original cube (BIN defaults to
  /root/.cache/galmass/target/release/galmass); its `rings` (radius_kpc, v_rot_kms, v_rot_err_kms,
  inclination_deg, pa_deg) are interpolated linearly to BBarolo's radii (no extrapolation: outside galmass's radii
  the row shows '-'). If the binary is missing or fails, BBarolo's table is still printed and the report says galmass
  was not run.
- prints a Markdown table (radius kpc and arcsec, BBarolo VROT +- err, galmass v_rot +- err, galmass - BBarolo, both
  INC and PA) and both wall times; --json writes all of it (both BBarolo stages, BBarolo's geometry, galmass's JSON).
- conventions, so the two PAs compare directly: BBarolo's XPOS/YPOS are 0-based pixels (FITS pixel = value + 1; its
  pixToWCS adds 1), PA is that of the receding half of the major axis, measured from north through east (checked on
  this cube: at PA 203 the moment-1 velocity is 700-740 km/s, above VSYS 556; at PA 23 it is 380-430 km/s).
  Kpc = arcsec * D / 206264.8 (BBarolo's own RAD(Kpc) column, recomputed here from --distance-mpc).

Measured here (2026-12-04), NGC 2903 fixture (WSRT, 57.4" x 48.3" beam = 7.86 pixels, 4.13 km/s channels), 8.9 Mpc:
  apt-get update && apt-get install -y libfftw3-dev wcslib-dev libcfitsio-dev
      (Debian 12.11: libfftw3-dev 3.3.10-1, wcslib-dev 7.12+ds-1+b2, libcfitsio-dev 4.2.0-3; g++ 12.2, make, pkg-config
      were already installed; no gnuplot or MPI: configure warns and goes on, built with PYTHON FFTW3 OPENMP)
  python3 -m venv /tmp/bbarolovenv
  /tmp/bbarolovenv/bin/pip install numpy astropy scipy matplotlib setuptools wheel
  /tmp/bbarolovenv/bin/pip install -v pybbarolo==1.8.0      (1 min 39 s, sdist built into a wheel; do not pass
      --no-binary :all:, which rebuilds cmake and ninja from source for the build dependencies)
  BBarolo's own estimates: 21 rings of 28.708'' (half BMAJ; centres 14.354'' + k 28.708'', out to 588.5'' = 25.4
  kpc), centre XPOS 34.692, YPOS 46.868 (0-based pixels; FITS 35.692, 47.868; RA 142.33474, Dec 21.72121 B1950 =
  09h32m10.12s +21d29m59.3s J2000), VSYS 556.42 km/s, VROT 200.5 km/s, INC 65.87 deg, PA 202.24 deg.
  Stage 2 (regularised) geometry: INC 66.07 deg, PA 202.99 deg at every ring. Stage 1 (free per ring): INC 61.1-70.9
  deg, PA 199.8-208.7 deg (223.5 in the central ring).
  BBarolo 3DFIT, stage 2 (rings_final2.txt; INC 66.07, PA 202.99, centre and VSYS as above at every ring):
      R (kpc)  R ('')   VROT (km/s)        VDISP (km/s)
        0.62    14.4     76.7 -14.7/+13.5    22.2
        1.86    43.1    137.5 -20.7/+22.5    47.2
        3.10    71.8    180.2 -10.7/+ 8.7    39.0
        4.34   100.5    200.5 - 6.1/+ 6.9    22.6
        5.57   129.2    202.8 - 5.4/+ 6.7    20.1
        6.81   157.9    201.3 - 8.5/+11.8    17.5
        8.05   186.6    201.9 -11.7/+12.1     5.2
        9.29   215.3    193.5 -10.7/+10.4     6.2
       10.53   244.0    190.2 - 6.4/+ 7.5     8.2
       11.77   272.7    191.2 - 3.1/+ 4.0     8.3
       13.01   301.4    194.0 - 3.5/+ 2.7     8.2
       14.25   330.1    196.5 - 3.6/+ 3.5     8.9
       15.48   358.9    197.8 - 3.7/+ 4.0    10.1
       16.72   387.6    196.3 - 5.8/+ 6.0    12.7
       17.96   416.3    193.7 - 7.0/+ 6.1    13.2
       19.20   445.0    195.7 - 5.6/+ 4.6    10.6
       20.44   473.7    191.1 - 4.9/+ 5.9    10.6
       21.68   502.4    192.9 - 7.2/+ 6.0     7.4
       22.92   531.1    191.2 - 5.6/+ 5.3     6.7
       24.15   559.8    189.9 - 5.9/+ 6.4     2.5
       25.39   588.5    186.2 - 5.8/+ 7.2     0.3
  Flat part: 186-198 km/s from 9 to 25 kpc (the 14 rings at R >= 9 kpc: mean 192.9 km/s, sd 3.0); maximum
  202.8 km/s at 5.6 kpc.
  Wall time, one thread (2-core machine): 41 s without errors (user 26 s); 182 s with FLAGERRORS (this script; user
  123 s; 2 min 57 s in a separate run). Values and errors came out the same in both runs.
Both on this cube (2026-12-04, this script with defaults, galmass at commit 4f90982 + the dataset refactor):
  galmass: 21 rings of 57.4'' (one beam), i 63.1-67.6 deg per ring, PA 199.5-206.9 deg, curve 121.9 km/s at 1.9
  kpc, 206-207 km/s from 4.3 to 8.1 kpc, 181-201 km/s out to 22.9 kpc. Over the 18 radii both cover: galmass -
  BBarolo mean -1.6 km/s, rms 7.3 km/s, largest 15.5 km/s (at 1.86 kpc, inside 1.3 beams, where BBarolo's 3-D
  fit handles beam smearing better than a 2-D velocity field can; and -14.8 km/s at 19.2 kpc). Every other ring
  agrees within 1.25 of galmass's errors. Wall time: BBarolo 181.4 s (with errors, one thread), galmass 2.34 s
  (rings, errors and the MCMC decomposition): 77 times faster.
Literature reference (found with the search tool; the script does not use it): NGC2903_rotmod.dat in SPARC's rotmod
format (Rad, Vobs, errV, Vgas, Vdisk, Vbul, SBdisk, SBbul; the file does not name its source), as copied in the GitHub
repository marcofanavigator/A-Universal-Scale-in-Galaxy-Dynamics, header "Distance = 6.6 Mpc". Vobs rises to
214-216 km/s at R = 2.88-4.80 kpc, is 201 km/s at 8.6-9.6 kpc, 193-197 km/s at 11.5-13.4 kpc, 185-190 km/s at
14.4-20.2 kpc and 177-182 km/s at 21.1-25.0 kpc (errors 1-8 km/s). Radii scale with distance (x 8.9/6.6 = 1.35 at
8.9 Mpc: the 215 km/s peak at 3.9-6.5 kpc, 177-182 km/s at 28.5-33.7 kpc); velocities do not. The file gives no
inclination. de Blok et al. 2008 (THINGS, arXiv:0810.2100) turned up only as its abstract, with no NGC 2903 numbers.
"""
import argparse
import json
import math
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import time

import numpy as np
from astropy.io import fits

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_CUBE = ROOT.parent / "shared" / "fixtures" / "fits" / "NGC_2903.fits"
if not DEFAULT_CUBE.exists():
    DEFAULT_CUBE = pathlib.Path("/work/shared/fixtures/fits/NGC_2903.fits")
DEFAULT_BIN = "/root/.cache/galmass/target/release/galmass"
ARCSEC_PER_RAD = 206264.806


def bbarolo_executable():
    """The BBarolo executable that pyBBarolo's build puts inside the package."""
    try:
        import pyBBarolo
    except ImportError as e:
        sys.exit(f"pyBBarolo is not installed ({e}); see the usage in this script's docstring")
    exe = pathlib.Path(pyBBarolo.__file__).resolve().parent / "BBarolo"
    if not exe.exists():
        sys.exit(f"no BBarolo executable at {exe}")
    return exe, getattr(pyBBarolo, "version", "?")


def prepare_cube(src, dst):
    """Copy of the cube without GIPSY BMMAJ/BMMIN/BMPA when BMAJ/BMIN exist (see the docstring)."""
    with fits.open(src) as hdul:
        hdr = hdul[0].header.copy()
        removed = []
        if "BMAJ" in hdr and "BMIN" in hdr:
            for key in ("BMMAJ", "BMMIN", "BMPA"):
                if key in hdr:
                    del hdr[key]
                    removed.append(key)
        fits.PrimaryHDU(hdul[0].data, hdr).writeto(dst, overwrite=True)
    return removed


def write_params(path, cube, outdir, distance_mpc, errors, threads):
    lines = [
        f"FITSFILE   {cube}",
        "3DFIT      true",
        "FREE       VROT VDISP INC PA",
        f"DISTANCE   {distance_mpc}",
        "MASK       SEARCH",
        "NORM       AZIM",
        "TWOSTAGE   true",
        f"FLAGERRORS {'true' if errors else 'false'}",
        f"THREADS    {threads}",
        f"OUTFOLDER  {outdir}",
        "PLOTS      false",
        "SHOWBAR    false",
    ]
    path.write_text("\n".join(lines) + "\n")
    return lines


def read_rings(path):
    """BBarolo's rings_final*.txt: '#'-prefixed header of column names, one ring a row."""
    with open(path) as f:
        header = f.readline().lstrip("#").split()
    data = np.atleast_2d(np.loadtxt(path))
    return {name: data[:, i].tolist() for i, name in enumerate(header) if i < data.shape[1]}


def run_bbarolo(cube, workdir, distance_mpc, errors, threads):
    exe, version = bbarolo_executable()
    workdir.mkdir(parents=True, exist_ok=True)
    outdir = workdir / "out"
    if outdir.exists():
        shutil.rmtree(outdir)
    clean = workdir / "cube_for_bbarolo.fits"
    removed = prepare_cube(cube, clean)
    par = workdir / "bbarolo.par"
    params = write_params(par, clean, outdir, distance_mpc, errors, threads)
    log = workdir / "bbarolo.log"
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.run([str(exe), "-p", str(par)], stdout=f, stderr=subprocess.STDOUT, cwd=workdir)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        sys.exit(f"BBarolo exited {proc.returncode}; last lines of {log}:\n" + "\n".join(tail))
    stage2 = outdir / "rings_final2.txt"
    final = stage2 if stage2.exists() else outdir / "rings_final1.txt"
    rings = read_rings(final)
    stage1 = read_rings(outdir / "rings_final1.txt")
    estimates = [ln.strip() for ln in log.read_text(errors="replace").splitlines()
                 if "(e)" in ln or "(d)" in ln or "Fitting #" in ln]
    return {
        "executable": str(exe), "pybbarolo_version": version, "params": params, "removed_keywords": removed,
        "wall_s": wall, "rings_file": final.name, "rings": rings, "stage1_rings": stage1,
        "initial_estimates": estimates, "log": str(log),
    }


def run_galmass(binary, cube, distance_mpc):
    cmd = [binary, "estimate", "rc", "--hi-fits", str(cube), "--distance-mpc", str(distance_mpc), "--json"]
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        return {"ran": False, "why": f"no executable at {binary}", "cmd": cmd}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {"ran": False, "why": f"{type(e).__name__}: {e}", "cmd": cmd}
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"ran": False, "why": f"exit {proc.returncode}: {proc.stderr.strip()[-2000:]}", "cmd": cmd,
                "wall_s": wall}
    out = proc.stdout
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        start = out.find("{")
        try:
            report = json.loads(out[start:]) if start >= 0 else None
        except json.JSONDecodeError:
            report = None
    if not isinstance(report, dict) or not isinstance(report.get("rings"), list) or not report["rings"]:
        return {"ran": False, "why": "its stdout is not JSON with a non-empty `rings` list", "cmd": cmd,
                "wall_s": wall, "stdout_head": out[:2000]}
    return {"ran": True, "cmd": cmd, "wall_s": wall, "report": report}


def interp_rings(galmass_rings, radii_kpc):
    """galmass's ring quantities linearly interpolated to radii_kpc (NaN outside its radial range)."""
    rings = sorted((r for r in galmass_rings if r.get("radius_kpc") is not None), key=lambda r: r["radius_kpc"])
    r = np.array([float(g["radius_kpc"]) for g in rings])
    out = {}
    for key in ("v_rot_kms", "v_rot_err_kms", "inclination_deg", "pa_deg"):
        vals = np.array([float(g[key]) if g.get(key) is not None else np.nan for g in rings])
        ok = np.isfinite(vals)
        if key == "pa_deg" and ok.any():
            vals[ok] = np.unwrap(vals[ok], period=360.0)  # no jump at 0/360 between two rings
        y = np.full(len(radii_kpc), np.nan)
        if ok.sum() >= 1:
            inside = (radii_kpc >= r[ok].min()) & (radii_kpc <= r[ok].max())
            y[inside] = np.interp(radii_kpc[inside], r[ok], vals[ok])
        out[key] = y
    return out


def jsonable(obj):
    """Plain JSON: numpy values as floats, NaN and infinities as null."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def fmt(x, prec=1):
    return "-" if x is None or not np.isfinite(x) else f"{x:.{prec}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cube", default=str(DEFAULT_CUBE))
    ap.add_argument("--distance-mpc", type=float, default=8.9)
    ap.add_argument("--workdir", default="/tmp/bbarolo_compare")
    ap.add_argument("--bin", default=DEFAULT_BIN, help="the galmass binary")
    ap.add_argument("--bbarolo-only", action="store_true", help="do not run galmass")
    ap.add_argument("--no-errors", action="store_true", help="FLAGERRORS false (no VROT errors, ~10x faster)")
    ap.add_argument("--threads", type=int, default=1, help="BBarolo's THREADS")
    ap.add_argument("--json", default=None, help="write every number here")
    args = ap.parse_args()

    cube = pathlib.Path(args.cube).resolve()
    workdir = pathlib.Path(args.workdir)
    bb = run_bbarolo(cube, workdir, args.distance_mpc, not args.no_errors, args.threads)
    rg = bb["rings"]
    r_arcsec = np.array(rg["RAD(arcs)"])
    r_kpc = r_arcsec * args.distance_mpc * 1e3 / ARCSEC_PER_RAD
    vrot = np.array(rg["VROT(km/s)"])
    n = len(vrot)
    # With FLAGERRORS BBarolo adds E_VROT1 (lower, negative) and E_VROT2 (upper) columns.
    if "E_VROT1" in rg and "E_VROT2" in rg:
        err_lo, err_hi = -np.array(rg["E_VROT1"]), np.array(rg["E_VROT2"])
    else:
        err_lo = err_hi = np.full(n, np.nan)
    inc, pa = np.array(rg["INC(deg)"]), np.array(rg["P.A.(deg)"])
    geometry = {
        "xpos_pix0": float(np.mean(rg["XPOS(pix)"])), "ypos_pix0": float(np.mean(rg["YPOS(pix)"])),
        "vsys_kms": float(np.mean(rg["VSYS(km/s)"])),
        "ring_spacing_arcsec": float(np.median(np.diff(r_arcsec))) if n > 1 else float("nan"),
        "inc_deg_mean": float(np.mean(inc)), "pa_deg_mean": float(np.mean(pa)),
    }
    with fits.open(cube) as hdul:
        try:
            from astropy.wcs import WCS, FITSFixedWarning
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FITSFixedWarning)
                w = WCS(hdul[0].header).celestial
            lon, lat = w.all_pix2world([[geometry["xpos_pix0"], geometry["ypos_pix0"]]], 0)[0]
            geometry.update(centre_lon_deg=float(lon), centre_lat_deg=float(lat),
                            centre_frame=f"{w.wcs.radesys} {w.wcs.equinox}".strip())
        except Exception as e:  # noqa: BLE001 - geometry in world coordinates is informative only
            geometry["centre_world_error"] = str(e)

    if args.bbarolo_only:
        gm = {"ran": False, "why": "--bbarolo-only"}
    else:
        gm = run_galmass(args.bin, cube, args.distance_mpc)
    gi = interp_rings(gm["report"]["rings"], r_kpc) if gm["ran"] else None

    print(f"# {cube.name}, D = {args.distance_mpc} Mpc; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus; pyBBarolo {bb['pybbarolo_version']} (BBarolo executable, THREADS "
          f"{args.threads}, {'with' if not args.no_errors else 'without'} errors)")
    print(f"# BBarolo: {n} rings ({bb['rings_file']}), spacing {geometry['ring_spacing_arcsec']:.3f}'', centre "
          f"(x, y) = ({geometry['xpos_pix0']:.3f}, {geometry['ypos_pix0']:.3f}) 0-based pixels"
          + (f" = ({geometry['centre_lon_deg']:.5f}, {geometry['centre_lat_deg']:.5f}) deg "
             f"{geometry['centre_frame']}" if "centre_lon_deg" in geometry else "")
          + f", VSYS {geometry['vsys_kms']:.2f} km/s, INC {geometry['inc_deg_mean']:.2f}, "
          f"PA {geometry['pa_deg_mean']:.2f} deg (receding half, N through E)")
    if not gm["ran"]:
        print(f"# galmass was not run: {gm['why']}")
    print()
    print("| R (kpc) | R ('') | BBarolo VROT (km/s) | galmass v_rot (km/s) | galmass - BBarolo | "
          "INC BB / gm (deg) | PA BB / gm (deg) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for i in range(n):
        bb_err = (f" -{fmt(err_lo[i])}/+{fmt(err_hi[i])}" if np.isfinite(err_lo[i]) else "")
        row = {"radius_kpc": r_kpc[i], "radius_arcsec": r_arcsec[i], "bbarolo_vrot_kms": vrot[i],
               "bbarolo_vrot_err_lo_kms": err_lo[i], "bbarolo_vrot_err_hi_kms": err_hi[i],
               "bbarolo_vdisp_kms": rg["DISP(km/s)"][i], "bbarolo_inc_deg": inc[i], "bbarolo_pa_deg": pa[i]}
        if gi is not None:
            gv, ge = gi["v_rot_kms"][i], gi["v_rot_err_kms"][i]
            row.update(galmass_v_rot_kms=gv, galmass_v_rot_err_kms=ge, diff_kms=gv - vrot[i],
                       galmass_inc_deg=gi["inclination_deg"][i], galmass_pa_deg=gi["pa_deg"][i])
            gm_s = "-" if not np.isfinite(gv) else f"{fmt(gv)}" + (f" +- {fmt(ge)}" if np.isfinite(ge) else "")
            d_s, inc_g, pa_g = fmt(gv - vrot[i]), fmt(gi["inclination_deg"][i]), fmt(gi["pa_deg"][i])
        else:
            gm_s = d_s = inc_g = pa_g = "-"
        rows.append(row)
        print(f"| {r_kpc[i]:.2f} | {r_arcsec[i]:.1f} | {vrot[i]:.1f}{bb_err} | {gm_s} | {d_s} | "
              f"{inc[i]:.1f} / {inc_g} | {pa[i]:.1f} / {pa_g} |")
    print()
    print(f"BBarolo wall time: {bb['wall_s']:.1f} s"
          + (f"; galmass wall time: {gm['wall_s']:.2f} s" if gm.get("ran") else "; galmass: not run"))
    if gi is not None:
        d = np.array([r.get("diff_kms", np.nan) for r in rows], dtype=float)
        ok = np.isfinite(d)
        if ok.any():
            print(f"galmass - BBarolo over {ok.sum()} common rings: mean {d[ok].mean():+.1f} km/s, "
                  f"rms {math.sqrt(np.mean(d[ok] ** 2)):.1f} km/s, max |d| {np.abs(d[ok]).max():.1f} km/s")

    if args.json:
        report = {"cube": str(cube), "distance_mpc": args.distance_mpc, "bbarolo": bb, "geometry": geometry,
                  "rows": rows, "galmass": gm}
        pathlib.Path(args.json).write_text(json.dumps(jsonable(report), indent=1))


if __name__ == "__main__":
    main()
