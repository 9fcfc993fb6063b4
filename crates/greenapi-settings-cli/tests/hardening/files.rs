//! Unsafe files (issue 18 item 4): no temporary file at a predictable name is opened through
//! a symlink, and a file holding secrets is 0600 from the start, whatever is left over.

#![cfg(unix)]

use super::*;
use std::os::unix::fs::PermissionsExt;

#[test]
fn the_report_check_does_not_truncate_what_a_planted_tmp_symlink_points_to() {
    let sb = fast(2);
    let d = dir();
    let victim = d.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let report = d.join("report.json");
    std::os::unix::fs::symlink(&victim, d.join("report.json.tmp")).unwrap();
    let r = cli(&[
        "plan",
        s(&desired()),
        "--instances",
        s(&common::csv("f.csv", &sb)),
        "--report",
        s(&report),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(common::read_json(&report)["results"].is_array());
}

#[test]
fn export_include_secrets_is_0600_even_over_a_leftover_0644_tmp_file() {
    let d = dir();
    let out = d.join("settings.toml");
    let leftover = d.join("settings.export.tmp");
    std::fs::write(&leftover, "old").unwrap();
    std::fs::set_permissions(&leftover, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = cli(&["export", "--include-secrets", "--output", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.all());
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the exported secrets are readable by others");
}
