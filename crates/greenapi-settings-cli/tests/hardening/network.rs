//! The local network (issue 18 items 5 and 11): loopback targets bypass proxies from the
//! environment, and the sandbox answers only requests addressed to it.

use super::*;

/// A proxy from the environment that records what reaches it (and answers 502).
fn recording_proxy() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<common::Request>>>,
) {
    common::server(16, |_| common::http("502 Bad Gateway", "", "{}"))
}

#[test]
fn the_embedded_sandbox_is_reached_directly_with_a_proxy_in_the_environment() {
    let (proxy, seen) = recording_proxy();
    for args in [vec!["get", "--json"], vec!["demo"]] {
        let mut c = bin(Color::Never);
        for name in [
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "HTTPS_PROXY",
        ] {
            c.env(name, &proxy);
        }
        c.env_remove("NO_PROXY").env_remove("no_proxy").args(&args);
        let r = run(c);
        assert_eq!(r.code, 0, "{args:?}: {}", r.all());
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        seen.lock().unwrap().is_empty(),
        "requests went through the proxy"
    );
}

/// One raw HTTP/1.1 GET of the default instance's settings with this `Host`; the status code.
fn get_with_host(sb: &BlockingSandbox, host: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = sb.url().trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let token = greenapi_settings_sandbox::DEFAULT_TOKEN;
    write!(
        s,
        "GET /waInstance{DEFAULT_INSTANCE_ID}/getSettings/{token} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

#[test]
fn after_dns_rebinding_a_page_cannot_read_the_sandbox_settings() {
    let sb = common::single();
    let port = sb.url().rsplit(':').next().unwrap().to_string();
    let (code, body) = get_with_host(&sb, &format!("127.0.0.1:{port}"));
    assert_eq!(code, 200, "{body}");
    let (code, _) = get_with_host(&sb, &format!("localhost:{port}"));
    assert_eq!(code, 200);
    // The page's own host name, as a browser sends it after the name rebinds to 127.0.0.1.
    let (code, body) = get_with_host(&sb, &format!("rebind.evil.example:{port}"));
    assert_eq!(code, 403, "{body}");
    assert!(!body.contains("webhookUrl"), "{body}");
    assert!(
        !body.contains("evil"),
        "the Host value is not echoed: {body}"
    );
}
