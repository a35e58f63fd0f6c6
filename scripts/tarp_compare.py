#!/usr/bin/env python3
"""Expected values of the `tarp` package (v0.1.1) for galmass-metrics' TARP implementation.

Writes crates/galmass-metrics/test_data/tarp_expected.json, read by
crates/galmass-metrics/tests/tarp_package.rs. Deterministic (numpy's seeded generator; inputs rounded to
6 decimals so the file stays small and every number in it is exactly the float the package saw).

Run:  scripts/setup_venv.sh && scripts/.venv/bin/python scripts/tarp_compare.py

Cases: norm True (references uniform in [0, 1]^d, the normalised space) and norm False (references uniform over
the truth's range per dimension), euclidean and manhattan, num_alpha_bins default (n_sims // 10) plus one explicit
count, a small set with too-narrow posteriors, and a degenerate set where every f equals 0 (numpy widens the range to [-0.5, 0.5]). Each case also records
np.histogram over the unit interval (range=(0, 1)), the paper's definition, computed from the package's own f
expression, so the `UnitInterval` variant is checked against numpy as well.
"""

import json
import pathlib

import numpy as np
import tarp

SEED = 20240611
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "galmass-metrics" / "test_data" / "tarp_expected.json"


def package_f(samples, theta, references, metric, norm):
    """The credibility fractions f_j, written exactly as tarp 0.1.1's _get_tarp_coverage_single computes them."""
    theta = theta[np.newaxis, :, :]
    if norm:
        low = np.min(theta, axis=1, keepdims=True)
        high = np.max(theta, axis=1, keepdims=True)
        samples = (samples - low) / (high - low + 1e-10)
        theta = (theta - low) / (high - low + 1e-10)
    if metric == "euclidean":
        samples_distances = np.sqrt(np.sum((references[np.newaxis] - samples) ** 2, axis=-1))
        theta_distances = np.sqrt(np.sum((references - theta) ** 2, axis=-1))
    else:
        samples_distances = np.sum(np.abs(references[np.newaxis] - samples), axis=-1)
        theta_distances = np.sum(np.abs(references - theta), axis=-1)
    return np.sum((samples_distances < theta_distances), axis=0) / samples.shape[0]


def main():
    rng = np.random.default_rng(SEED)

    # Main set: 60 simulations, 80 posterior samples, 3 dimensions, deliberately off-centre and too wide, so that
    # f stays inside (0, 1) and the package's [min f, max f] histogram range differs from the unit interval.
    n_samples, n_sims, n_dims = 80, 60, 3
    centre = rng.normal([2.0, -1.0, 5.0], [3.0, 1.0, 2.0], size=(n_sims, n_dims))
    theta = np.round(rng.normal(centre, 1.0), 6)
    samples = np.round(rng.normal(centre + 0.2, 1.6, size=(n_samples, n_sims, n_dims)), 6)
    refs_unit = np.round(rng.uniform(0.0, 1.0, size=(n_sims, n_dims)), 6)
    refs_raw = np.round(rng.uniform(theta.min(axis=0), theta.max(axis=0), size=(n_sims, n_dims)), 6)

    # Narrow set: 30 simulations, 40 samples, 2 dimensions, posteriors too narrow, so f reaches 0 and 1 (the last
    # bin is closed on the right).
    nar_centre = rng.normal(0.0, 2.0, size=(30, 2))
    nar_theta = np.round(rng.normal(nar_centre, 1.0), 6)
    nar_samples = np.round(rng.normal(nar_centre, 0.4, size=(40, 30, 2)), 6)
    nar_refs = np.round(rng.uniform(0.0, 1.0, size=(30, 2)), 6)

    # Degenerate set: samples equal to the truth, so no sample is strictly closer than it and every f is 0.
    deg_theta = np.round(rng.normal(0.0, 1.0, size=(20, 2)), 6)
    deg_samples = np.repeat(deg_theta[np.newaxis], 5, axis=0)
    deg_refs = np.round(rng.uniform(0.0, 1.0, size=(20, 2)), 6)

    inputs = {
        "main": {"samples": samples, "theta": theta},
        "narrow": {"samples": nar_samples, "theta": nar_theta},
        "degenerate": {"samples": deg_samples, "theta": deg_theta},
    }
    references = {"main_unit": refs_unit, "main_raw": refs_raw, "narrow": nar_refs, "degenerate": deg_refs}

    specs = [
        ("main", "main_unit", "euclidean", True, None),
        ("main", "main_unit", "manhattan", True, None),
        ("main", "main_raw", "euclidean", False, None),
        ("main", "main_raw", "manhattan", False, None),
        ("main", "main_unit", "euclidean", True, 7),
        ("narrow", "narrow", "euclidean", True, None),
        ("narrow", "narrow", "manhattan", False, None),
        ("degenerate", "degenerate", "euclidean", True, None),
    ]
    cases = []
    for input_name, refs_name, metric, norm, bins in specs:
        s = inputs[input_name]["samples"]
        t = inputs[input_name]["theta"]
        r = references[refs_name]
        # The package writes into its inputs only when bootstrapping; pass copies anyway.
        ecp, alpha = tarp.get_tarp_coverage(
            s.copy(), t.copy(), references=r.copy(), metric=metric, num_alpha_bins=bins, norm=norm,
            bootstrap=False,
        )
        f = package_f(s.copy(), t.copy(), r.copy(), metric, norm)
        n_bins = bins if bins is not None else s.shape[1] // 10
        h, unit_alpha = np.histogram(f, bins=n_bins, range=(0.0, 1.0), density=True)
        unit_ecp = np.concatenate([[0], np.cumsum(h) * (unit_alpha[1] - unit_alpha[0])])
        cases.append({
            "name": f"{input_name}-{metric}-norm{norm}-bins{bins}",
            "inputs": input_name,
            "references": refs_name,
            "metric": metric,
            "norm": norm,
            "num_alpha_bins": bins,
            "f": f.tolist(),
            "ecp": ecp.tolist(),
            "alpha": alpha.tolist(),
            "unit_interval_ecp": unit_ecp.tolist(),
            "unit_interval_alpha": unit_alpha.tolist(),
        })

    doc = {
        "generator": "scripts/tarp_compare.py",
        "tarp_version": tarp.__version__ if hasattr(tarp, "__version__") else "0.1.1",
        "numpy_version": np.__version__,
        "seed": SEED,
        "inputs": {k: {kk: vv.tolist() for kk, vv in v.items()} for k, v in inputs.items()},
        "references": {k: v.tolist() for k, v in references.items()},
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    tmp.replace(OUT)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes, {len(cases)} cases)")


if __name__ == "__main__":
    main()
