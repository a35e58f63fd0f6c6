//! The data cube: a regular grid on the sky times a regular grid of line-of-sight velocities, and nothing of
//! simulations (MARTINI's `datacube`).
//!
//! Arrays are `(channel, y, x)`, as numpy reads a FITS cube with axes (RA, Dec, velocity). Pixel `(y, x)` covers
//! `x` in `[(x - nx/2) p, (x + 1 - nx/2) p]` arcsec from the field centre (so the centre of the field lies on a pixel
//! corner for even `nx` and on a pixel centre for odd `nx`), `p` the pixel size; channel `k` covers velocities
//! `[v_0 + k dv, v_0 + (k + 1) dv]` with `v_0 = centre - n dv / 2`. Velocities are relative to the galaxy's
//! systemic velocity, which the FITS writer adds back.
//!
//! Units ([`CubeUnit`]): a mock cube is built in Jy/arcsec^2 (surface brightness per channel) and, once convolved
//! with a beam, converted to Jy/beam by the beam area `pi bmaj bmin / (4 ln 2)`. Real cubes come in Jy/beam (or K,
//! converted on reading).

use ndarray::{Array2, Array3, ArrayView3};
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::hi::beam::GaussianBeam;

/// The sky grid: `nx` x `ny` square pixels of `pixel_arcsec`, centred on the galaxy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SkyGrid {
    /// Pixels along x (FITS axis 1, array axis 2).
    pub nx: usize,
    /// Pixels along y (FITS axis 2, array axis 1).
    pub ny: usize,
    /// Side of a pixel in arcsec.
    pub pixel_arcsec: f64,
}

impl SkyGrid {
    /// A square grid of `npix` x `npix` pixels.
    pub fn square(npix: usize, pixel_arcsec: f64) -> Result<Self, MockError> {
        Self::new(npix, npix, pixel_arcsec)
    }

    /// Checks the sizes.
    pub fn new(nx: usize, ny: usize, pixel_arcsec: f64) -> Result<Self, MockError> {
        if nx == 0 || ny == 0 || nx > 1 << 15 || ny > 1 << 15 {
            return Err(MockError::invalid("npix", format!("must be 1..32768 pixels per axis, got {nx} x {ny}")));
        }
        if !(pixel_arcsec.is_finite() && pixel_arcsec > 0.0) {
            return Err(MockError::invalid("pixel_arcsec", format!("must be positive, got {pixel_arcsec}")));
        }
        Ok(Self { nx, ny, pixel_arcsec })
    }

    /// Area of a pixel in arcsec^2.
    pub fn pixel_area_arcsec2(&self) -> f64 {
        self.pixel_arcsec * self.pixel_arcsec
    }

    /// Offset in arcsec of the lower edge of pixel column 0 from the field centre (`-nx p / 2`).
    pub fn x_edge_arcsec(&self) -> f64 {
        -0.5 * self.nx as f64 * self.pixel_arcsec
    }

    /// Offset in arcsec of the lower edge of pixel row 0 from the field centre (`-ny p / 2`).
    pub fn y_edge_arcsec(&self) -> f64 {
        -0.5 * self.ny as f64 * self.pixel_arcsec
    }

    /// Offset in arcsec of the centre of column `i` from the field centre.
    pub fn x_centre_arcsec(&self, i: usize) -> f64 {
        self.x_edge_arcsec() + (i as f64 + 0.5) * self.pixel_arcsec
    }

    /// Offset in arcsec of the centre of row `j` from the field centre.
    pub fn y_centre_arcsec(&self, j: usize) -> f64 {
        self.y_edge_arcsec() + (j as f64 + 0.5) * self.pixel_arcsec
    }

    /// The same grid grown by `pad` pixels on every side (the field centre stays put).
    pub fn padded(&self, pad: usize) -> Self {
        Self { nx: self.nx + 2 * pad, ny: self.ny + 2 * pad, pixel_arcsec: self.pixel_arcsec }
    }
}

/// The velocity axis: `n` channels of `width_kms`, centred on `centre_kms` (relative to the systemic velocity).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpectralAxis {
    /// Number of channels.
    pub n: usize,
    /// Channel width in km/s (positive: velocity grows with the channel index).
    pub width_kms: f64,
    /// Velocity of the axis centre in km/s.
    pub centre_kms: f64,
}

impl SpectralAxis {
    /// Checks the sizes.
    pub fn new(n: usize, width_kms: f64, centre_kms: f64) -> Result<Self, MockError> {
        if n == 0 || n > 1 << 16 {
            return Err(MockError::invalid("channels", format!("must be 1..65536, got {n}")));
        }
        if !(width_kms.is_finite() && width_kms > 0.0) {
            return Err(MockError::invalid("channel_kms", format!("must be positive, got {width_kms}")));
        }
        if !centre_kms.is_finite() {
            return Err(MockError::invalid("centre_kms", format!("must be finite, got {centre_kms}")));
        }
        Ok(Self { n, width_kms, centre_kms })
    }

    /// Lower edge of channel 0 in km/s.
    pub fn first_edge_kms(&self) -> f64 {
        self.centre_kms - 0.5 * self.n as f64 * self.width_kms
    }

    /// Centre of channel `k` in km/s.
    pub fn channel_centre_kms(&self, k: usize) -> f64 {
        self.first_edge_kms() + (k as f64 + 0.5) * self.width_kms
    }

    /// Every channel centre in km/s.
    pub fn centres_kms(&self) -> Vec<f64> {
        (0..self.n).map(|k| self.channel_centre_kms(k)).collect()
    }
}

/// The unit of a cube's voxels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CubeUnit {
    /// Surface brightness per channel, Jy/arcsec^2 (a mock cube before or without a beam).
    JyPerArcsec2,
    /// Flux density per beam, Jy/beam.
    JyPerBeam,
}

impl CubeUnit {
    /// The FITS `BUNIT` spelling (`Jy/arcsec2`, `Jy/beam`).
    pub fn as_str(self) -> &'static str {
        match self {
            CubeUnit::JyPerArcsec2 => "Jy/arcsec2",
            CubeUnit::JyPerBeam => "Jy/beam",
        }
    }
}

/// A spectral-line data cube, `(channel, y, x)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DataCube {
    /// Voxel values in `unit`.
    pub data: Array3<f64>,
    /// The sky grid.
    pub grid: SkyGrid,
    /// The velocity axis.
    pub spectral: SpectralAxis,
    /// The beam the cube is convolved with (`None`: not convolved).
    pub beam: Option<GaussianBeam>,
    /// The unit of `data`.
    pub unit: CubeUnit,
}

impl DataCube {
    /// A cube of zeros in Jy/arcsec^2.
    pub fn zeros(grid: SkyGrid, spectral: SpectralAxis) -> Self {
        Self {
            data: Array3::zeros((spectral.n, grid.ny, grid.nx)),
            grid,
            spectral,
            beam: None,
            unit: CubeUnit::JyPerArcsec2,
        }
    }

    /// Wraps an array, checking its shape against the grids.
    pub fn from_parts(
        data: Array3<f64>,
        grid: SkyGrid,
        spectral: SpectralAxis,
        beam: Option<GaussianBeam>,
        unit: CubeUnit,
    ) -> Result<Self, MockError> {
        if data.dim() != (spectral.n, grid.ny, grid.nx) {
            return Err(MockError::BadInput {
                name: "cube",
                expected: format!("{} channels x {} x {} pixels", spectral.n, grid.ny, grid.nx),
                got: format!("{:?}", data.dim()),
            });
        }
        if unit == CubeUnit::JyPerBeam && beam.is_none() {
            return Err(MockError::BadInput {
                name: "cube",
                expected: "a beam for Jy/beam".into(),
                got: "none".into(),
            });
        }
        Ok(Self { data, grid, spectral, beam, unit })
    }

    /// The voxels.
    pub fn view(&self) -> ArrayView3<'_, f64> {
        self.data.view()
    }

    /// Factor turning a voxel value into a flux density in Jy: the pixel area in arcsec^2 for Jy/arcsec^2, the
    /// pixel area over the beam area for Jy/beam.
    pub fn jy_per_voxel_unit(&self) -> f64 {
        match (self.unit, self.beam) {
            (CubeUnit::JyPerBeam, Some(beam)) => self.grid.pixel_area_arcsec2() / beam.area_arcsec2(),
            _ => self.grid.pixel_area_arcsec2(),
        }
    }

    /// Total flux `sum S dv` in Jy km/s (NaN voxels skipped).
    pub fn total_flux_jy_kms(&self) -> f64 {
        let sum: f64 = self.data.iter().filter(|v| v.is_finite()).sum();
        sum * self.jy_per_voxel_unit() * self.spectral.width_kms
    }

    /// The HI mass in Msun the total flux stands for at `distance_mpc`: `M_HI = 2.36e5 D^2 sum S dv`
    /// ([`hi_mass_msun_from_flux`]).
    pub fn hi_mass_msun(&self, distance_mpc: f64) -> f64 {
        hi_mass_msun_from_flux(self.total_flux_jy_kms(), distance_mpc)
    }

    /// Sum over channels times the channel width (the unmasked moment 0), `(y, x)`, in `unit` km/s.
    pub fn integrated(&self) -> Array2<f64> {
        let mut out = Array2::<f64>::zeros((self.grid.ny, self.grid.nx));
        for plane in self.data.outer_iter() {
            ndarray::Zip::from(&mut out).and(&plane).for_each(|o, &v| {
                if v.is_finite() {
                    *o += v;
                }
            });
        }
        out * self.spectral.width_kms
    }
}

/// The HI mass-flux relation of an optically thin line (Roberts 1962; MARTINI, methods.md):
/// `M_HI [Msun] = 2.36e5 D^2 [Mpc^2] sum S dv [Jy km/s]`.
pub const HI_MASS_PER_JY_KMS_MPC2: f64 = 2.36e5;

/// The HI mass in Msun of a total flux `flux_jy_kms` at `distance_mpc`.
pub fn hi_mass_msun_from_flux(flux_jy_kms: f64, distance_mpc: f64) -> f64 {
    HI_MASS_PER_JY_KMS_MPC2 * distance_mpc * distance_mpc * flux_jy_kms
}

/// The total flux in Jy km/s of `hi_mass_msun` at `distance_mpc`.
pub fn flux_jy_kms_from_hi_mass(hi_mass_msun: f64, distance_mpc: f64) -> f64 {
    hi_mass_msun / (HI_MASS_PER_JY_KMS_MPC2 * distance_mpc * distance_mpc)
}

/// Column density in cm^-2 per unit of `sum S dv` in Jy/arcsec^2 km/s, independent of distance: an arcsec^2 at `D`
/// Mpc is `(D 1e6 pc / 206264.806)^2` and holds `2.36e5 D^2 S` Msun of HI, so `Sigma_HI = 1.0039e4 S` Msun/pc^2 and
/// `N_HI = Sigma_HI Msun / (m_H pc^2)`. Per beam this is the radio astronomers' `N_HI = 1.105e21 S[mJy/beam km/s] /
/// (bmaj bmin [arcsec^2])` (methods.md, delosrios2023).
pub fn column_density_cm2_per_jy_arcsec2_kms() -> f64 {
    use galmass_core::units::{MSUN_G, PC_CM};
    const HYDROGEN_ATOM_MASS_G: f64 = 1.673_533e-24; // 1.007825 u (CODATA 2018 atomic mass unit)
    let pc_per_arcsec_per_mpc = 1e6 / ARCSEC_PER_RAD;
    let msun_per_pc2 = HI_MASS_PER_JY_KMS_MPC2 / (pc_per_arcsec_per_mpc * pc_per_arcsec_per_mpc);
    msun_per_pc2 * MSUN_G / (HYDROGEN_ATOM_MASS_G * PC_CM * PC_CM)
}

/// HI surface density in Msun/pc^2 per unit of `sum S dv` in Jy/arcsec^2 km/s (about 1.004e4).
pub fn surface_density_msun_pc2_per_jy_arcsec2_kms() -> f64 {
    let pc_per_arcsec_per_mpc = 1e6 / ARCSEC_PER_RAD;
    HI_MASS_PER_JY_KMS_MPC2 / (pc_per_arcsec_per_mpc * pc_per_arcsec_per_mpc)
}

/// Arcseconds per radian.
pub const ARCSEC_PER_RAD: f64 = 180.0 * 3600.0 / std::f64::consts::PI;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_density_matches_the_radio_formula() {
        // N_HI = 1.105e21 S[mJy/beam km/s] / (bmaj bmin): 1 mJy/beam km/s in a 10'' beam is 1e-3 / (1.1331 * 100)
        // Jy/arcsec^2 km/s.
        let s = 1e-3 / (std::f64::consts::PI / (4.0 * 2f64.ln()) * 100.0);
        let n = column_density_cm2_per_jy_arcsec2_kms() * s;
        assert!((n / (1.105e21 / 100.0) - 1.0).abs() < 2e-3, "{n}");
        // 1 Msun/pc^2 is 1.249e20 cm^-2.
        let ratio = column_density_cm2_per_jy_arcsec2_kms() / surface_density_msun_pc2_per_jy_arcsec2_kms();
        assert!((ratio / 1.249e20 - 1.0).abs() < 2e-3, "{ratio}");
    }

    #[test]
    fn grids_place_pixels_about_the_centre() {
        let g = SkyGrid::square(4, 2.0).unwrap();
        assert_eq!(g.x_edge_arcsec(), -4.0);
        assert_eq!(g.x_centre_arcsec(0), -3.0);
        assert_eq!(g.y_centre_arcsec(3), 3.0);
        let s = SpectralAxis::new(64, 5.0, 0.0).unwrap();
        assert_eq!(s.first_edge_kms(), -160.0);
        assert_eq!(s.channel_centre_kms(32), 2.5);
        assert!(SkyGrid::square(0, 1.0).is_err());
        assert!(SpectralAxis::new(8, -1.0, 0.0).is_err());
    }

    #[test]
    fn from_parts_checks_shapes() {
        let g = SkyGrid::square(3, 1.0).unwrap();
        let s = SpectralAxis::new(2, 1.0, 0.0).unwrap();
        assert!(DataCube::from_parts(Array3::zeros((2, 3, 3)), g, s, None, CubeUnit::JyPerArcsec2).is_ok());
        assert!(DataCube::from_parts(Array3::zeros((3, 3, 3)), g, s, None, CubeUnit::JyPerArcsec2).is_err());
        assert!(DataCube::from_parts(Array3::zeros((2, 3, 3)), g, s, None, CubeUnit::JyPerBeam).is_err());
    }
}
