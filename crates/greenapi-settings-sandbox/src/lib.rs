//! A local server that behaves like the GREEN-API `getSettings` / `setSettings` endpoints, so
//! tests, demos and the CLI run with no account and no network.
//!
//! It serves the real URL shape, `/waInstance{idInstance}/{method}/{apiTokenInstance}`, on
//! `127.0.0.1`, and answers the way the API does: the same status codes in the same order
//! (404 wrong method, 403 unknown instance, 401 wrong token, 429 rate limit, 400 "starting",
//! 466 quota, 413/400 bad bodies), the same validation as the client (from the one spec file),
//! and `{"saveSettings":true}` on success. On top of that it can inject faults (latency, 5xx),
//! delay when settings become visible, misbehave the way users of the real API report (an
//! acknowledged write that is lost, settings that drift back by themselves), persist its state
//! to a file, and shows what happened under `/sandbox/instances` (never showing a token).
//!
//! It also sends the notifications the settings switch on, as the API does (issue 21): made on
//! demand ([`SandboxHandle::trigger`], `POST /sandbox/instances/{id}/notify`), queued per
//! instance, then POSTed to the instance's `webhookUrl` (with `Authorization: Bearer
//! <webhookUrlToken>`, one at a time, in order, the same one again after a failure) or, while
//! that is empty, given out by `receiveNotification` / `deleteNotification`. These POSTs are
//! the only requests it makes, and only to the configured URL (no redirect is followed).
//!
//! It is safe to leave running on a developer machine: it listens on 127.0.0.1 only, refuses
//! what a web page could send it (a request from another `Origin`: 403; a `setSettings` or
//! `/sandbox/` request whose body is not declared `application/json`: 415), and bounds slow
//! clients (a read timeout for headers and bodies, and a cap on connections served at once).
//!
//! It speaks plain HTTP unless asked for HTTPS ([`SandboxConfig::tls`], `--tls`): then it
//! makes a certificate at start for `localhost` and the addresses it listens on, signed by a
//! throw-away CA whose PEM ([`SandboxHandle::ca_pem`], [`SandboxHandle::ca_path`]) is the one
//! root a client needs, or serves the caller's own ([`TlsConfig::files`]). It can listen on
//! several loopback addresses at once ([`SandboxConfig::hosts`]), and counts the connections
//! it accepted and the TLS handshakes it completed ([`SandboxHandle::server_stats`], `GET
//! /sandbox/server`), so tests can prove that clients reuse connections.
//!
//! Use [`Sandbox::start`] from async code and [`BlockingSandbox`] from everything else:
//!
//! ```
//! use std::io::{Read, Write};
//! use greenapi_settings_sandbox::{BlockingSandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN};
//!
//! let sandbox = BlockingSandbox::start(SandboxConfig::default())?;
//!
//! // Any HTTP client works; std's TcpStream keeps the example free of dependencies.
//! let body = r#"{"delaySendMessagesMilliseconds": 15000}"#;
//! let mut stream = std::net::TcpStream::connect(sandbox.addr())?;
//! write!(
//!     stream,
//!     "POST /waInstance{DEFAULT_INSTANCE_ID}/setSettings/{DEFAULT_TOKEN} HTTP/1.1\r\n\
//!      Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
//!      Connection: close\r\n\r\n{body}",
//!     body.len()
//! )?;
//! let mut response = String::new();
//! stream.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 200"));
//! assert!(response.ends_with(r#"{"saveSettings":true}"#));
//!
//! // What the server saw, without going through HTTP (and without any token).
//! let stats = sandbox.stats(DEFAULT_INSTANCE_ID).expect("configured instance");
//! assert_eq!(stats.settings.delay_send_messages_milliseconds, 15_000);
//! assert_eq!(stats.restarts, 1);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The binary `greenapi-settings-sandbox` runs the same server from the command line
//! (`--help` lists its flags); [`options`] defines those flags, for it and for the
//! `greenapi-settings sandbox` subcommand.

// The crate README's Rust examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod auth;
mod blocking;
mod body;
mod config;
mod faults;
mod guard;
mod notifications;
pub mod options;
mod persist;
mod ratelimit;
mod request;
mod response;
mod routes;
mod server;
mod server_stats;
mod state;
mod stats;
mod timeline;
mod tls;

pub use blocking::BlockingSandbox;
pub use config::{
    generated_token, SandboxConfig, DEFAULT_BODY_LIMIT, DEFAULT_INSTANCE_ID,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_TIMEOUT, DEFAULT_SEED, DEFAULT_TOKEN,
};
pub use notifications::{
    Delivered, Failing, NotificationLog, Outcome, QueuedInfo, Suppressed, Triggered, Via,
    DEFAULT_NOTIFY_QUEUE, RECORDS_KEPT,
};
pub use server::{Sandbox, SandboxHandle};
pub use server_stats::ServerStats;
pub use stats::InstanceStats;
pub use tls::{TlsConfig, MAX_PEM_FILE_BYTES};
