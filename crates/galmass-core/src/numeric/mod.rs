//! The numerical helpers every galmass crate shares, one of each: linear interpolation ([`interp`]), quadrature
//! ([`quad`]: composite Simpson, trapezoid, cumulative trapezoid) and root finding ([`roots`]: bisection). Gamma
//! functions come from `statrs::function::gamma`; cosmology lives in [`crate::cosmology`].
//!
//! ```
//! use galmass_core::numeric::{interp::interp, quad::simpson, roots::bisect};
//! assert_eq!(interp(&[0.0, 1.0, 2.0], &[0.0, 10.0, 30.0], 1.5), 20.0);
//! assert!((simpson(|x| x * x, 0.0, 3.0, 2) - 9.0).abs() < 1e-12);
//! let root = bisect(|x| x * x - 2.0, 0.0, 2.0, 1e-14).unwrap();
//! assert!((root - 2f64.sqrt()).abs() < 1e-13);
//! ```

pub mod interp;
pub mod quad;
pub mod roots;
