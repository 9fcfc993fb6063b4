//! A tiny blocking HTTP/1.1 client over `std::net::TcpStream`, so tests control every byte
//! (malformed paths, raw bodies) and depend on nothing beyond std and serde_json.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use greenapi_settings_sandbox::{SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN};
use serde_json::Value;

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends raw bytes and reads the whole answer (the request should say `Connection: close`).
pub fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The server may answer (413) before it has read everything; a failed write is fine then.
    let _ = stream.write_all(request);
    let mut data = Vec::new();
    let _ = stream.read_to_end(&mut data);
    parse_reply(&data)
}

fn parse_reply(data: &[u8]) -> Reply {
    let split = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(data)));
    let head = String::from_utf8_lossy(&data[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = data[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]).trim().to_string();
        let size = usize::from_str_radix(&size_text, 16).unwrap_or(0);
        let start = eol + 2;
        match data.get(start..start + size) {
            Some(chunk) if size > 0 => out.extend_from_slice(chunk),
            _ => break,
        }
        data = data.get(start + size + 2..).unwrap_or_default();
    }
    out
}

/// A request with the given method, path, extra headers and body.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    raw(addr, &bytes)
}

pub fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, &[], b"")
}

pub fn post(addr: SocketAddr, path: &str, body: &str) -> Reply {
    request(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

pub fn get_path(id: u64, token: &str) -> String {
    format!("/waInstance{id}/getSettings/{token}")
}

pub fn set_path(id: u64, token: &str) -> String {
    format!("/waInstance{id}/setSettings/{token}")
}

/// getSettings of the default instance.
pub fn get_default(addr: SocketAddr) -> Reply {
    get(addr, &get_path(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN))
}

/// setSettings of the default instance.
pub fn set_default(addr: SocketAddr, body: &str) -> Reply {
    post(addr, &set_path(DEFAULT_INSTANCE_ID, DEFAULT_TOKEN), body)
}

/// The default config without the rate limit, for tests that send many requests.
pub fn unlimited() -> SandboxConfig {
    SandboxConfig::default().rate_limit(None)
}

/// Asserts the common error shape and returns the message.
pub fn error_message(reply: &Reply, status: u16, description: &str) -> String {
    assert_eq!(reply.status, status, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["code"], status, "{body}");
    assert_eq!(body["description"], description, "{body}");
    body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message: {body}"))
        .to_string()
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gas-sandbox-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
