//! `sandbox trigger TYPE[:VARIANT] --instance ID [--field KEY=JSON …] [--url URL]`: the
//! `stripe trigger` of this API (issue 21). Asks a running sandbox (`POST
//! /sandbox/instances/ID/notify`) to make a notification and deliver it if the instance's
//! settings enable it, and prints what happened: queued (exit 0), or suppressed with the
//! reason (exit 1). Bad input (an unknown type, a malformed field, an unknown instance) is
//! exit 2. Only a loopback URL is accepted: the endpoint is the sandbox's, and no token is
//! sent or needed.

use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::{json, Map, Value};

use crate::exit::{CliError, Exit};
use crate::terminal;

/// The environment variable `--url` falls back to.
pub(crate) const ENV_URL: &str = "GREENAPI_SANDBOX_URL";

/// How long the sandbox has to answer (it answers at once: the delivery happens later).
const TIMEOUT: Duration = Duration::from_secs(10);

/// Largest answer read (a notify answer is a body of a few hundred bytes).
const ANSWER_CAP: usize = 1024 * 1024;

/// The `trigger` subcommand of `sandbox`.
pub(crate) fn command() -> Command {
    Command::new("trigger")
        .about("Make a running sandbox send a notification (if the instance's settings enable it), like `stripe trigger`")
        .arg(
            Arg::new("type")
                .required(true)
                .value_name("TYPE[:VARIANT]")
                .help("The notification: a typeWebhook (incomingCall), or TYPE:VARIANT (incomingMessageReceived:editedMessage)"),
        )
        .arg(
            Arg::new("instance")
                .long("instance")
                .required(true)
                .value_name("ID")
                .help("The sandbox instance that sends it"),
        )
        .arg(
            Arg::new("field")
                .long("field")
                .value_name("KEY=JSON")
                .action(ArgAction::Append)
                .help("Set a body field (repeatable): a.b=JSON sets a nested one; a value that is not JSON is a string"),
        )
        .arg(
            Arg::new("url")
                .long("url")
                .value_name("SANDBOX_URL")
                .env(ENV_URL)
                .help("The running sandbox, as it printed it (http://127.0.0.1:PORT)"),
        )
}

/// `KEY=JSON` merged into `fields` (a dotted key makes nested objects).
fn add_field(fields: &mut Map<String, Value>, given: &str) -> Result<(), CliError> {
    let Some((key, raw)) = given.split_once('=') else {
        return Err(CliError::usage(format!(
            "--field {}: expects KEY=JSON (e.g. status=\"pickUp\" or isVideo=true)",
            terminal::text(given)
        )));
    };
    let path: Vec<&str> = key.split('.').collect();
    if path.iter().any(|p| p.is_empty()) {
        return Err(CliError::usage(format!(
            "--field {}: the key must be a field name, or names joined by dots",
            terminal::text(given)
        )));
    }
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    let (last, parents) = path.split_last().unwrap_or((&"", &[]));
    let mut at = fields;
    for part in parents {
        let slot = at
            .entry((*part).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            return Err(CliError::usage(format!(
                "--field {}: {part} is given both as a value and as an object",
                terminal::text(given)
            )));
        }
        at = slot
            .as_object_mut()
            .unwrap_or_else(|| unreachable!("checked above"));
    }
    at.insert((*last).to_string(), value);
    Ok(())
}

/// The sandbox URL: `http(s)://` a loopback host, with no path beyond `/`.
fn sandbox_url(given: Option<&String>) -> Result<reqwest::Url, CliError> {
    let Some(given) = given else {
        return Err(CliError::usage(format!(
            "no sandbox to ask: give --url (or {ENV_URL}) as the sandbox printed it"
        ))
        .with_hint("start one with `greenapi-settings sandbox`; it prints `listening on http://127.0.0.1:PORT`"));
    };
    let refused = || {
        CliError::usage(format!(
            "--url {}: expects the running sandbox's URL, http://127.0.0.1:PORT (the notify endpoint is the sandbox's, on this machine)",
            terminal::text(given)
        ))
    };
    let url = reqwest::Url::parse(given).map_err(|_| refused())?;
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let plain = url.scheme() == "http" && url.path() == "/" && url.query().is_none();
    if !loopback || !plain || !url.username().is_empty() || url.password().is_some() {
        return Err(refused());
    }
    Ok(url)
}

/// Runs `sandbox trigger`.
pub(crate) async fn run(m: &ArgMatches) -> Result<Exit, CliError> {
    let key = m
        .get_one::<String>("type")
        .map(String::as_str)
        .unwrap_or_default();
    let instance = m
        .get_one::<String>("instance")
        .map(String::as_str)
        .unwrap_or_default();
    let id: u64 = instance
        .parse()
        .ok()
        .filter(|_| instance.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| CliError::usage("--instance expects the instance id (digits)"))?;
    let mut fields = Map::new();
    for given in m.get_many::<String>("field").into_iter().flatten() {
        add_field(&mut fields, given)?;
    }
    let base = sandbox_url(m.get_one::<String>("url"))?;
    let endpoint = base
        .join(&format!("sandbox/instances/{id}/notify"))
        .map_err(|_| CliError::usage("--url: not a base URL"))?;
    let request = json!({"type": key, "variant": null, "fields": fields});

    // Without a default TLS provider in reqwest (as in the core crate), ring is installed
    // once; the sandbox is plain http on loopback, but the client is built with TLS support.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| {
            CliError::failed(format!("cannot make the HTTP client: {}", e.without_url()))
        })?;
    let mut response = client
        .post(endpoint)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(request.to_string())
        .send()
        .await
        .map_err(|e| {
            CliError::failed(format!(
                "cannot reach the sandbox at {}: {}",
                base.as_str().trim_end_matches('/'),
                e.without_url()
            ))
            .with_hint("is it running? `greenapi-settings sandbox` prints its URL")
        })?;
    let status = response.status();
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > ANSWER_CAP {
            return Err(CliError::failed(
                "the sandbox's answer is larger than 1 MiB",
            ));
        }
    }
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !status.is_success() {
        let message = answer["message"].as_str().unwrap_or("no message");
        let text = format!(
            "the sandbox refused the notification (HTTP {}): {message}",
            status.as_u16()
        );
        return Err(if status.is_client_error() {
            CliError::usage(text)
        } else {
            CliError::failed(text)
        });
    }
    match answer["outcome"].as_str() {
        Some("queued") => {
            crate::outln!(
                "queued: {} on instance {id} (receipt {}); it is delivered to the webhookUrl, or waits for receiveNotification while that is empty",
                terminal::text(key),
                answer["receiptId"]
            );
            Ok(Exit::Ok)
        }
        Some("suppressed") => {
            let reason = answer["reason"]
                .as_str()
                .unwrap_or("the settings do not enable it");
            crate::outln!("suppressed: {}", terminal::text(reason));
            Ok(Exit::Failed)
        }
        _ => Err(CliError::failed(
            "the sandbox's answer says neither queued nor suppressed",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_json_or_strings_and_dots_nest_them() {
        let mut fields = Map::new();
        for given in [
            "status=pickUp",
            "isVideo=true",
            "senderData.chatId=\"1@c.us\"",
            "senderData.sender=2@c.us",
        ] {
            add_field(&mut fields, given).unwrap();
        }
        assert_eq!(
            Value::Object(fields.clone()),
            json!({"status": "pickUp", "isVideo": true, "senderData": {"chatId": "1@c.us", "sender": "2@c.us"}})
        );
        for bad in ["novalue", "=1", "a..b=1", "status.x=1"] {
            assert_eq!(
                add_field(&mut fields, bad).unwrap_err().exit,
                Exit::Usage,
                "{bad}"
            );
        }
    }

    #[test]
    fn only_a_loopback_sandbox_url_is_accepted() {
        for ok in [
            "http://127.0.0.1:7000",
            "http://localhost:7000/",
            "http://[::1]:7000",
        ] {
            assert!(sandbox_url(Some(&ok.to_string())).is_ok(), "{ok}");
        }
        for bad in [
            "https://api.green-api.com",
            "http://10.0.0.1:7000",
            "http://127.0.0.1:7000/waInstance1/getSettings/tok",
            "http://user:pw@127.0.0.1:7000",
            "not a url",
        ] {
            assert_eq!(
                sandbox_url(Some(&bad.to_string())).unwrap_err().exit,
                Exit::Usage,
                "{bad}"
            );
        }
        assert_eq!(sandbox_url(None).unwrap_err().exit, Exit::Usage);
    }
}
