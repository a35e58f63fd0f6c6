#!/usr/bin/env python3
"""A chu2024-like synthetic table for the GBDT comparison (galmass_estimators::gbdt against LightGBM).

Ten summary statistics named as chu2024 Table 1 (M_r, g-r, SFR, Sersic n, c/a, sigma_v, lambda_R, B/T, f_cold,
f_hot) drawn from a seeded latent model of galaxies, and a target log10 M* that depends nonlinearly on a few of
them (the luminosity, a colour-dependent mass-to-light ratio that saturates for red galaxies, a dispersion term,
a bulge term) plus 0.05 dex Gaussian noise. 1% of the Sersic indices are missing (NaN, failed fits), so the
missing-value handling is exercised too. Not physics: a test bed whose feature ranking is clear.

Run:  scripts/.venv/bin/python scripts/gbdt_data.py --rows 28110 --seed 1 --out /tmp/train.csv
"""

import argparse
import pathlib

import numpy as np

FEATURES = ["M_r", "g_r", "SFR", "n_ser", "c_a", "sigma_v", "lambda_R", "B_T", "f_cold", "f_hot"]
TARGET = "log_mstar"


def generate(rows: int, seed: int) -> np.ndarray:
    """Returns a (rows, 11) float64 array: the ten features then the target."""
    rng = np.random.default_rng(seed)
    # Latent galaxy: stellar mass and how quenched it is.
    log_m = rng.uniform(9.7, 11.8, rows)
    quenched = 1.0 / (1.0 + np.exp(-(log_m - 10.6) / 0.25 + rng.normal(0.0, 1.0, rows)))
    b_t = np.clip(0.15 + 0.55 * quenched + rng.normal(0.0, 0.12, rows), 0.0, 1.0)
    g_r = 0.35 + 0.4 * quenched + 0.05 * (log_m - 10.5) + rng.normal(0.0, 0.04, rows)
    # log10 M/L_r: rises with colour, saturating for red galaxies (a nonlinear term).
    log_ml = -0.35 + 0.9 * np.tanh(2.2 * (g_r - 0.35)) + rng.normal(0.0, 0.03, rows)
    log_l = log_m - log_ml
    m_r = 4.65 - 2.5 * log_l
    log_sfr = 0.8 * (log_m - 10.5) - 1.8 * quenched + 0.3 + rng.normal(0.0, 0.3, rows)
    sfr = 10.0**log_sfr
    n_ser = np.exp(np.log(1.2) + 1.2 * b_t + rng.normal(0.0, 0.25, rows))
    c_a = np.clip(0.25 + 0.45 * b_t + rng.normal(0.0, 0.08, rows), 0.05, 1.0)
    sigma_v = 10.0 ** (2.1 + 0.28 * (log_m - 10.5) + 0.15 * b_t + rng.normal(0.0, 0.05, rows))
    lambda_r = np.clip(0.7 - 0.6 * b_t + rng.normal(0.0, 0.07, rows), 0.0, 0.95)
    f_cold = np.clip(0.6 * (1.0 - b_t) + rng.normal(0.0, 0.05, rows), 0.0, 1.0)
    f_hot = np.clip(0.1 + 0.45 * b_t + rng.normal(0.0, 0.05, rows), 0.0, 1.0)
    # The target: the latent mass plus a small dispersion-dependent term (dynamical information the photometry
    # misses) and noise.
    target = log_m + 0.15 * np.tanh(4.0 * (np.log10(sigma_v) - 2.1 - 0.28 * (log_m - 10.5))) + rng.normal(0.0, 0.05, rows)
    n_ser[rng.random(rows) < 0.01] = np.nan
    table = np.column_stack([m_r, g_r, sfr, n_ser, c_a, sigma_v, lambda_r, b_t, f_cold, f_hot, target])
    return table


def write_csv(path: pathlib.Path, table: np.ndarray) -> None:
    """Writes a header row and one row per galaxy, 6 significant digits, NaN as `nan`.

    Both tools read this text (pandas with float_precision="round_trip", galmass with Rust's correctly rounded
    parser), so they train on the same numbers.
    """
    import pandas as pd

    pd.DataFrame(table, columns=FEATURES + [TARGET]).to_csv(path, index=False, float_format="%.6g", na_rep="nan")


def read_csv(path: pathlib.Path) -> np.ndarray:
    """Reads a table written by write_csv (or any numeric CSV with a header) into float64, NaN for `nan`/empty."""
    import pandas as pd

    return pd.read_csv(path, float_precision="round_trip").to_numpy(dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    write_csv(args.out, generate(args.rows, args.seed))


if __name__ == "__main__":
    main()
