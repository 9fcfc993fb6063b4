//! Secrets in error text: a token or webhook secret in broken input is never echoed, in any case or encoding.

use super::*;

#[test]
fn a_token_in_a_broken_profile_file_is_not_echoed() {
    for (i, token) in TOKENS.iter().enumerate() {
        let broken = [
            format!("[profiles.default]\napi_token = \"{token}\n"),
            format!("[profiles.default]\napi_token = {token}\n"),
            format!("[profiles.default]\napi_token = '{token}\nid_instance = 1\n"),
            format!("[profiles.default]\nid_instance = \"{token}\"\n"),
            format!("[profiles.default]\nid_instance = {token}\n"),
            format!("[profiles.default]\napi_token = \"{token}\"\napi_token = \"{token}\"\n"),
        ];
        for (j, text) in broken.iter().enumerate() {
            let p = tmp(&format!("profile-{i}-{j}.toml"), text);
            let mut c = bin(Color::Never);
            c.env("GREENAPI_SETTINGS_PROFILES", &p)
                .args(["--profile", "default", "get"]);
            let r = run(c);
            assert_eq!(r.code, 2, "{text}\n{}", r.all());
            assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
            assert_hides(&r, token);
        }
    }
}

#[test]
fn a_webhook_url_token_in_a_broken_settings_file_is_not_echoed() {
    for (i, token) in TOKENS.iter().enumerate() {
        let broken = [
            (
                "toml",
                format!("incomingWebhook = \"yes\"\nwebhookUrlToken = \"{token}\n"),
            ),
            ("toml", format!("webhookUrlToken = {token}\n")),
            (
                "toml",
                format!("webhookUrlToken = \"{token}\"\nwebhookUrlToken = \"{token}\"\n"),
            ),
            (
                "json",
                format!("{{\"webhookUrlToken\": \"{token}\" \"incomingWebhook\": \"yes\"}}"),
            ),
            ("json", format!("{{\"webhookUrlToken\": {token}}}")),
            (
                "json",
                format!("{{\"webhookUrlToken\": \"{token}\", \"webhookUrlToken\": \"{token}\"}}"),
            ),
            ("cfg", format!("webhookUrlToken = \"{token}\n")),
        ];
        for (j, (ext, text)) in broken.iter().enumerate() {
            let r = validate(&format!("settings-{i}-{j}.{ext}"), text);
            assert_eq!(r.code, 2, "{text}\n{}", r.all());
            assert_hides(&r, token);
        }
    }
}

#[test]
fn a_token_given_as_the_instance_id_is_not_echoed() {
    for token in TOKENS {
        let mut c = bin(Color::Never);
        c.env("GREEN_API_ID_INSTANCE", token)
            .env("GREEN_API_URL", "http://127.0.0.1:9")
            .env("GREEN_API_TOKEN", "abcd-4f1c")
            .arg("get");
        let r = run(c);
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(
            r.stderr.contains("GREEN_API_ID_INSTANCE must be a number"),
            "{}",
            r.stderr
        );
        assert_hides(&r, token);

        let r = cli(&["--id-instance", token, "get"]);
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(
            r.stderr.contains("--id-instance must be a number"),
            "{}",
            r.stderr
        );
        assert_hides(&r, token);
    }
}

#[test]
fn a_token_inside_the_api_url_is_refused_without_echo() {
    let sb = fast(1);
    for token in TOKENS {
        let urls = [
            format!(
                "{}/waInstance{DEFAULT_INSTANCE_ID}/getSettings/{token}",
                sb.url()
            ),
            format!("{}/{token}", sb.url()),
            format!("{}/{}", sb.url(), encode(token)),
            format!("{}/{}", sb.url(), token.to_uppercase()),
            format!("{}/x?apiTokenInstance={token}", sb.url()),
            format!("htps:/{token}"),
            format!("http://user:{token}@127.0.0.1:9"),
            format!("not a url {token}"),
        ];
        for url in urls {
            let mut c = bin(Color::Never);
            c.env("GREEN_API_TOKEN", token)
                .env("GREEN_API_URL", &url)
                .env("GREEN_API_ID_INSTANCE", DEFAULT_INSTANCE_ID.to_string())
                .args(["plan", s(&desired())]);
            let r = run(c);
            assert_eq!(r.code, 2, "{url}\n{}", r.all());
            assert!(r.stderr.starts_with("error: the API URL "), "{}", r.stderr);
            assert_hides(&r, token);
        }
    }
    assert_eq!(calls(&sb), 0, "nothing was sent");
}

#[test]
fn a_token_in_the_wrong_fleet_column_is_not_echoed() {
    let sb = fast(1);
    for (i, token) in TOKENS.iter().enumerate() {
        let lines = [
            format!("{token},{DEFAULT_INSTANCE_ID},{}\n", sb.url()),
            format!("{DEFAULT_INSTANCE_ID},{},{token}\n", sb.url()),
            format!(
                "{DEFAULT_INSTANCE_ID},{token},{}/waInstance1/{token}\n",
                sb.url()
            ),
            format!(
                "{DEFAULT_INSTANCE_ID},{token},{}/{}\n",
                sb.url(),
                encode(token)
            ),
            format!("id,token,api_url\n{token}\n"),
        ];
        for (j, text) in lines.iter().enumerate() {
            let csv = tmp(&format!("cols-{i}-{j}.csv"), text);
            let r = cli(&["apply", s(&desired()), "--instances", s(&csv)]);
            assert_eq!(r.code, 2, "{text}\n{}", r.all());
            assert!(r.stderr.contains("nothing was sent"), "{}", r.stderr);
            assert_hides(&r, token);
        }
    }
    assert_eq!(calls(&sb), 0, "nothing was sent");
}

/// Issue 21: `doctor` (text and `--json`, with `--probe` against a receiver that answers 500)
/// shows neither the webhook token (sent as the Bearer token, or refused as a header value
/// when HTTP forbids its characters there) nor the secrets of the webhook URL's userinfo and
/// query, in any case or encoding.
#[test]
fn a_webhook_token_and_url_secrets_are_in_no_doctor_output() {
    for token in TOKENS {
        let sb = fast(1);
        let id = sb.instance_ids()[0];
        let (url, _) = common::server(2, |_| common::http("500 Internal Server Error", "", "{}"));
        // The token in the path too (a review found it printed there), and a 500 receiver
        // whose redirect-free answer doctor reports.
        let hook = url.replacen("http://", "http://user:pw-in-url-7Q@", 1)
            + "/hook/"
            + &token
                .bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => char::from(b).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
            + "?key=query-secret-7Q";
        let mut p = greenapi_settings::SettingsPatch::new();
        p.set_json("webhookUrl", &Value::from(hook)).unwrap();
        p.set_json("webhookUrlToken", &Value::from(token)).unwrap();
        p.set_json("stateWebhook", &Value::from("yes")).unwrap();
        common::client(&sb, id).set_settings(&p).unwrap();
        let csv = fleet_csv("doctor.csv", "", &sb, &[id]);
        for json in [false, true] {
            let mut args = vec![
                "doctor",
                "--probe",
                "--probe-timeout",
                "5s",
                "--instances",
                s(&csv),
            ];
            if json {
                args.push("--json");
            }
            let r = cli(&args);
            assert_eq!(r.code, 1, "{}", r.all());
            assert_hides(&r, token);
            assert_hides(&r, "pw-in-url-7Q");
            assert_hides(&r, "query-secret-7Q");
            assert_hides(&r, &greenapi_settings_sandbox::generated_token(id));
        }
    }
}
