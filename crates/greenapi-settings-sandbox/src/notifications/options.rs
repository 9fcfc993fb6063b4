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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::options::{command, config};

    fn parse(args: &[&str]) -> Result<crate::SandboxConfig, clap::Error> {
        let argv = std::iter::once("greenapi-settings-sandbox").chain(args.iter().copied());
        command("greenapi-settings-sandbox")
            .try_get_matches_from(argv)
            .map(|m| config(&m))
    }

    #[test]
    fn notification_options_are_understood() {
        let c = parse(&[
            "--notify-queue",
            "5",
            "--notify-timeout-ms",
            "200",
            "--notify-retry-ms=1s",
            "--notify-receive-scale",
            "0.01",
            "--notify-restarts",
        ])
        .unwrap();
        assert_eq!(c.notify.queue, 5);
        assert_eq!(c.notify.response_timeout, Duration::from_millis(200));
        assert_eq!(c.notify.retry_pause, Duration::from_secs(1));
        assert_eq!(c.notify.receive_scale, 0.01);
        assert!(c.notify.restarts);
        let d = parse(&[]).unwrap().notify;
        assert_eq!(
            (d.queue, d.response_timeout, d.retry_pause, d.restarts),
            (
                1000,
                Duration::from_secs(180),
                Duration::from_secs(60),
                false
            )
        );
    }

    #[test]
    fn bad_notification_options_are_usage_errors() {
        for args in [
            &["--notify-queue", "0"][..],
            &["--notify-queue", "x"],
            &["--notify-timeout-ms", "0"],
            &["--notify-retry-ms", "soon"],
            &["--notify-receive-scale", "2"],
            &["--notify-restarts=yes"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
        }
    }
}
