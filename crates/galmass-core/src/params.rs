//! The one parameter pattern of galmass (linfa's): a `FooParams` struct (serde, `deny_unknown_fields`, defaults
//! named after the paper) is checked once into a `FooValidParams`, and only checked parameters run an algorithm.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_core::CoreError;
//! #[derive(Debug, Clone)]
//! struct SmoothingParams { width: f64 }
//! #[derive(Debug, Clone)]
//! struct SmoothingValidParams { width: f64 }
//! impl Params for SmoothingParams {
//!     type Valid = SmoothingValidParams;
//!     type Error = CoreError;
//!     fn check(&self) -> Result<SmoothingValidParams, CoreError> {
//!         if !(self.width > 0.0) {
//!             return Err(CoreError::invalid("width", "must be positive"));
//!         }
//!         Ok(SmoothingValidParams { width: self.width })
//!     }
//! }
//! assert!(SmoothingParams { width: -1.0 }.check().is_err());
//! assert_eq!(SmoothingParams { width: 2.0 }.check().unwrap().width, 2.0);
//! ```

/// Parameters that must be checked before use.
pub trait Params {
    /// The checked parameters, the only form an algorithm accepts.
    type Valid;
    /// The error naming the offending parameter.
    type Error;
    /// Checks every parameter and returns the checked form.
    fn check(&self) -> Result<Self::Valid, Self::Error>;
}
