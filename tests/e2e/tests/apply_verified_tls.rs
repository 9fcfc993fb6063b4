//! The `apply_verified` suite (`apply_verified.rs`: apply, then read back until every field
//! shows its value) again, over HTTPS against the TLS sandbox, its CA trusted (issue 22).

#[path = "apply_verified.rs"]
mod suite;

#[test]
fn this_target_runs_its_suite_over_https() {
    assert!(suite::common::over_tls());
}
