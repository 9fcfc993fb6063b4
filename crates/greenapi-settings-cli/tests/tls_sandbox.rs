//! Issue 22: the command line over HTTPS, against the TLS sandbox (a certificate made at start,
//! signed by a throw-away CA). Without `--ca-cert` the CA is not trusted and nothing is sent;
//! with it, get, set, plan, apply --wait and fleets work as over plain HTTP, and a fleet spread
//! over several API hosts shares one connection pool: the sandbox's handshake counter stays at
//! the connections the concurrency needs, not one per instance.

mod common;

use common::{cli, s, tmp, Run};
use greenapi_settings_sandbox::generated_token;
use greenapi_settings_sandbox::{
    BlockingSandbox, SandboxConfig, TlsConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN,
};

fn tls_sandbox(instances: usize, hosts: u8) -> BlockingSandbox {
    let config = if instances == 0 {
        SandboxConfig::default()
    } else {
        SandboxConfig::instances_generated(instances)
    };
    BlockingSandbox::start(
        config
            .rate_limit(None)
            .tls(TlsConfig::generated())
            .hosts(hosts),
    )
    .unwrap()
}

/// The CLI for the default instance of `sb` over HTTPS, with `args` after the command.
fn one(sb: &BlockingSandbox, ca: bool, args: &[&str]) -> Run {
    let mut c = common::bin(common::Color::Never);
    c.env("GREEN_API_URL", sb.url())
        .env("GREEN_API_ID_INSTANCE", DEFAULT_INSTANCE_ID.to_string())
        .env("GREEN_API_TOKEN", DEFAULT_TOKEN)
        .args(args);
    if ca {
        c.args(["--ca-cert", sb.ca_path().unwrap().to_str().unwrap()]);
    }
    common::run(c)
}

#[test]
fn without_ca_cert_the_sandbox_is_not_trusted_naming_the_host_and_nothing_is_sent() {
    let sb = tls_sandbox(0, 1);
    let r = one(&sb, false, &["set", "--incoming-webhook", "yes"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("not trusted"), "{}", r.all());
    assert!(r.all().contains("127.0.0.1"), "{}", r.all());
    assert!(r.all().contains("--ca-cert"), "a hint: {}", r.all());
    assert!(!r.all().contains(DEFAULT_TOKEN), "{}", r.all());
    assert_eq!(common::set_calls(&sb), 0);
}

#[test]
fn with_ca_cert_get_set_plan_and_apply_wait_work_over_https() {
    let sb = tls_sandbox(0, 1);
    let r = one(&sb, true, &["set", "--incoming-webhook", "yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = one(&sb, true, &["get", "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("\"incomingWebhook\""), "{}", r.all());
    let desired = tmp("tls-desired.toml", "stateWebhook = \"yes\"\n");
    let r = one(&sb, true, &["plan", s(&desired)]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.all().contains("stateWebhook"), "{}", r.all());
    let r = one(&sb, true, &["apply", s(&desired), "--wait", "30s"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(common::set_calls(&sb), 2);
    let stats = sb.server_stats();
    assert!(stats.tls_handshakes >= 4, "{stats:?}");
}

#[test]
fn a_fleet_over_four_https_hosts_shares_one_pool_handshakes_stay_at_what_the_concurrency_needs() {
    let sb = tls_sandbox(200, 4);
    let urls = sb.urls();
    assert_eq!(urls.len(), 4);
    let mut text = String::from("id,token,api_url\n");
    for (i, id) in sb.instance_ids().iter().enumerate() {
        text.push_str(&format!("{id},{},{}\n", generated_token(*id), urls[i % 4]));
    }
    let inst = tmp("tls-fleet.csv", &text);
    let desired = tmp("tls-fleet.toml", "incomingWebhook = \"yes\"\n");
    let report = tmp("tls-fleet-report.json", "");
    let before = sb.server_stats();
    let concurrency = 25;
    let r = cli(&[
        "apply",
        s(&desired),
        "--report",
        s(&report),
        "--instances",
        s(&inst),
        "--concurrency",
        &concurrency.to_string(),
        "--yes",
        "--ca-cert",
        sb.ca_path().unwrap().to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.all().contains("200 instance(s): 200 applied"),
        "{}",
        r.all()
    );
    let after = sb.server_stats();
    let handshakes = after.tls_handshakes - before.tls_handshakes;
    eprintln!(
        "{handshakes} TLS handshakes for 200 instances on 4 hosts at concurrency {concurrency}"
    );
    // Each host needs at most `concurrency` connections; one per instance would be 200.
    assert!(
        (4..=4 * concurrency).contains(&handshakes),
        "{handshakes} handshakes for 200 instances on 4 hosts at concurrency {concurrency}"
    );
    // The report counts the same handshakes from the client's side (each connection the
    // pool opened is one).
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        report["summary"]["connectionsOpened"].as_u64(),
        Some(handshakes),
        "{report}"
    );
    assert_eq!(common::set_calls(&sb), 200);
}

/// `--http2` offers HTTP/2 to an `https://` API host: against a sandbox offering it
/// (`--offer-http2`), the connection speaks HTTP/2; without the flag (the default) the same
/// sandbox gets HTTP/1.1.
#[test]
fn the_http2_flag_speaks_http2_to_a_server_offering_it_and_the_default_stays_http1() {
    let sb = BlockingSandbox::start(
        SandboxConfig::default()
            .rate_limit(None)
            .tls(TlsConfig::generated().http2(true)),
    )
    .unwrap();
    let r = one(&sb, true, &["get", "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let stats = sb.server_stats();
    assert_eq!(stats.http2_connections, 0, "{stats:?}");
    let r = one(&sb, true, &["get", "--json", "--http2"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("\"incomingWebhook\""), "{}", r.all());
    let stats = sb.server_stats();
    assert_eq!(stats.http2_connections, 1, "{stats:?}");
}
