//! # galmass-pipeline
//!
//! Joins the leaf crates: builds datasets of projections from galaxy files, runs the experiments of the four papers
//! (selection, balancing, splits by galaxy, training, evaluation) and writes reports. What connects two leaf crates
//! lives here, never in the leaves.
//!
//! Status: laid out by the foundation issue; `cargo xtask reproduce-paper` lists the stages that will live here.
