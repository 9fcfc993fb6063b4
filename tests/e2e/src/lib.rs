//! End-to-end tests live in `tests/`; this library is empty but for the doctests of the
//! repository's README (its Rust examples compile and run; each published crate has a README of
//! its own, doctested by its crate).

#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct RootReadmeDoctests;
