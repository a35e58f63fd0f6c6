//! # galmass-synth
//!
//! Synthetic galaxy suites with known truth, the embedded default that lets a fresh machine run every galmass
//! pipeline without downloads: equilibrium dark haloes (NFW and baryon-modified), spheroids sampled from
//! distribution functions, discs, HI gas and stellar populations, organised as `nihao-like`, `auriga-like`,
//! `fire-like` and `tng-like` suites configured under `configs/synth/`.
//!
//! Status: the crate is laid out by the foundation issue; the generators arrive with the synthetic-suites issue.
//! It may use `galmass-snapshot` to write the simulations' native formats (ARCHITECTURE.md).
