//! The notification options of the sandbox's command line (part of
//! [`options::args`](crate::options::args)).

use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches};

use super::config::DEFAULT_NOTIFY_QUEUE;
use super::core::DELIVERY;
use crate::config::SandboxConfig;

/// The options, for [`options::args`](crate::options::args).
pub(crate) fn args(millis: fn(&str) -> Result<u64, String>) -> Vec<Arg> {
    vec![
        Arg::new("notify-queue")
            .long("notify-queue")
            .value_name("N")
            .value_parser(clap::value_parser!(u64).range(1..=1_000_000))
            .help(format!(
                "Notifications kept per instance; when full the oldest is dropped and counted \
                 (default {DEFAULT_NOTIFY_QUEUE})"
            )),
        Arg::new("notify-timeout-ms")
            .long("notify-timeout-ms")
            .value_name("MS")
            .value_parser(move |v: &str| match millis(v)? {
                0 => Err("expects more than 0 milliseconds".to_string()),
                ms => Ok(ms),
            })
            .help(format!(
                "Time a webhook receiver has to answer a delivery (default {} s, the API's)",
                DELIVERY.response_timeout_secs
            )),
        Arg::new("notify-retry-ms")
            .long("notify-retry-ms")
            .value_name("MS")
            .value_parser(millis)
            .help(format!(
                "Pause after a failed delivery before the same notification is sent again \
                 (default {} s, the API's)",
                DELIVERY.retry_pause_secs
            )),
        Arg::new("notify-receive-scale")
            .long("notify-receive-scale")
            .value_name("F")
            .value_parser(|v: &str| {
                v.parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| "expects a number from 0 to 1".to_string())
            })
            .help("Multiply receiveNotification's receiveTimeout by F, for tests (default 1)"),
        Arg::new("notify-restarts")
            .long("notify-restarts")
            .action(ArgAction::SetTrue)
            .help(
                "Send stateInstanceChanged starting, then authorized, around each setSettings \
                 restart (not documented by the API)",
            ),
    ]
}

/// `config` with the notification options of `matches`.
pub(crate) fn apply(matches: &ArgMatches, mut config: SandboxConfig) -> SandboxConfig {
    let ms = |id: &str| {
        matches
            .get_one::<u64>(id)
            .map(|ms| Duration::from_millis(*ms))
    };
    if let Some(n) = matches.get_one::<u64>("notify-queue") {
        config = config.notify_queue(usize::try_from(*n).unwrap_or(usize::MAX));
    }
    if let Some(timeout) = ms("notify-timeout-ms") {
        config = config.notify_timeout(timeout);
    }
    if let Some(pause) = ms("notify-retry-ms") {
        config = config.notify_retry(pause);
    }
    if let Some(scale) = matches.get_one::<f64>("notify-receive-scale") {
        config = config.notify_receive_scale(*scale);
    }
    if matches.get_flag("notify-restarts") {
        config = config.notify_restarts(true);
    }
    config
}
