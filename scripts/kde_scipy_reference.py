#!/usr/bin/env python3
"""Reference stellar kinematic maps from scipy.stats.gaussian_kde, for galmass-mock's tests.

Usage: scripts/setup_venv.sh && scripts/.venv/bin/python scripts/kde_scipy_reference.py

Writes crates/galmass-mock/test_data/kde_reference.json (case list, scalars) and one little-endian float64 file per
array (inputs x, y, v in kpc and km/s; maps [y][x] row-major). Two kinds of case:
- "kde": gaussian_kde on the points as given, evaluated on a 64x64 numpy.mgrid over [-0.5, 0.5]^2 (10, 1e3, 1e4 points);
- "maps": the whole star-map pipeline of galmass_mock::star_maps with a paper preset: R_h = median projected radius,
  v_p98 = 98th percentile of v (sarrato2025) or |v| (exposito2026), map 1 = KDE of (x, y)/R_h of stars with
  R < 0.5 R_h on [-0.5, 0.5]^2, map 2 = KDE of (R/R_h, v/v_p98) of stars with R < a R_h (a = 0.5 or 1) on the preset's
  R range x [-1, 1]. Grid points include both ends (mgrid[lo:hi:64j]).
Samples are Plummer spheres (a = 0.7 kpc) with Gaussian velocities plus a little rotation, projected along z.
"""
import json
import pathlib

import numpy as np
import scipy
from scipy.stats import gaussian_kde

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "galmass-mock" / "test_data"
GRID = 64


def plummer_projection(n, seed):
    rng = np.random.default_rng(seed)
    u = rng.uniform(1e-9, 1.0, n)
    r = 0.7 / np.sqrt(u ** (-2.0 / 3.0) - 1.0)
    cos_t = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    sin_t = np.sqrt(1 - cos_t ** 2)
    x, y = r * sin_t * np.cos(phi), r * sin_t * np.sin(phi)
    v = rng.normal(0.0, 12.0, n) + 3.0 * x  # slight rotation about y
    return x, y, v


def kde_on_grid(px, py, xr, yr):
    kde = gaussian_kde(np.vstack([px, py]))
    gx, gy = np.mgrid[xr[0]:xr[1]:GRID * 1j, yr[0]:yr[1]:GRID * 1j]
    values = kde(np.vstack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    return values.T  # [y][x]


def star_maps(x, y, v, preset):
    rad = np.sqrt(x * x + y * y)
    r_h = np.median(rad)
    v98 = np.percentile(np.abs(v) if preset == "exposito2026" else v, 98)
    r_range = (0.0, 1.0) if preset == "exposito2026" else (-0.5, 0.5)
    rv_aperture = 1.0 if preset == "exposito2026" else 0.5
    sel = rad < 0.5 * r_h
    star_xy = kde_on_grid(x[sel] / r_h, y[sel] / r_h, (-0.5, 0.5), (-0.5, 0.5))
    sel2 = rad < rv_aperture * r_h
    star_rv = kde_on_grid(rad[sel2] / r_h, v[sel2] / v98, r_range, (-1.0, 1.0))
    sigma = np.std(v, ddof=1)
    return star_xy, star_rv, dict(r_h_kpc=r_h, v_p98_kms=v98, sigma_los_kms=sigma,
                                  n_in_aperture=int(sel.sum()), n_in_rv_aperture=int(sel2.sum()))


def save(name, array):
    path = OUT / f"{name}.f64"
    np.ascontiguousarray(array, dtype="<f8").tofile(path)
    return path.name


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    for n, seed in [(10, 1), (1000, 2), (10000, 3)]:
        x, y, _ = plummer_projection(n, seed)
        # Points scaled into the grid, as map 1 sees them.
        px, py = x / (3 * np.median(np.sqrt(x * x + y * y))), y / (3 * np.median(np.sqrt(x * x + y * y)))
        cases.append(dict(kind="kde", name=f"kde_{n}", n=n, x=save(f"kde_{n}_x", px), y=save(f"kde_{n}_y", py),
                          map=save(f"kde_{n}_map", kde_on_grid(px, py, (-0.5, 0.5), (-0.5, 0.5)))))
    for n, seed, preset in [(1000, 4, "sarrato2025"), (10000, 5, "sarrato2025"), (10000, 6, "exposito2026")]:
        x, y, v = plummer_projection(n, seed)
        star_xy, star_rv, scalars = star_maps(x, y, v, preset)
        name = f"maps_{preset}_{n}"
        cases.append(dict(kind="maps", name=name, preset=preset, n=n, x=save(f"{name}_x", x), y=save(f"{name}_y", y),
                          v=save(f"{name}_v", v), star_xy=save(f"{name}_star_xy", star_xy),
                          star_rv=save(f"{name}_star_rv", star_rv), **scalars))
    (OUT / "kde_reference.json").write_text(json.dumps(
        dict(scipy=scipy.__version__, numpy=np.__version__, grid=GRID, cases=cases), indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT} with scipy {scipy.__version__}")


if __name__ == "__main__":
    main()
