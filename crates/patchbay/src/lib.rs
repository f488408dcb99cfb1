//! The composition root as a library: [`config`] resolves the configuration and [`app`] wires the
//! concrete adapters into the service. The `patchbay` binary (`main.rs`) is its one production
//! user; in-process tests use it to build the whole service with a clock they control.

pub mod app;
pub mod config;
