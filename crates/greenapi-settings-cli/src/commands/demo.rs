//! `demo`: the whole workflow on a fresh instance of an embedded sandbox, with no account and
//! no network: plan → apply → get → apply again (which sends nothing).

use greenapi_settings::{facts, Client, SettingsPatch};
use greenapi_settings_sandbox::{Sandbox, SandboxConfig, DEFAULT_INSTANCE_ID, DEFAULT_TOKEN};

use crate::exit::{CliError, Exit};
use crate::render;
use crate::style::Style;

pub(crate) async fn run(style: Style) -> Result<Exit, CliError> {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .map_err(|e| CliError::failed(format!("cannot start the embedded sandbox: {e}")))?;
    crate::outln!(
        "Embedded sandbox at {} (instance {DEFAULT_INSTANCE_ID}); it behaves like the API, including its limit of 1 request per second per instance.\n",
        sandbox.url()
    );
    let client = Client::new(sandbox.url(), DEFAULT_INSTANCE_ID, DEFAULT_TOKEN)?;
    let body: serde_json::Value = serde_json::from_str(facts::SET_SETTINGS_EXAMPLE_BODY)
        .map_err(|e| CliError::failed(e.to_string()))?;
    let desired = SettingsPatch::from_json_value(&body)
        .map_err(|_| CliError::failed("the spec's example body is not a valid patch"))?;

    crate::outln!("{}", style.bold("1. plan: the API documentation's example settings against a fresh instance (all settings off)"));
    let plan = client.plan(&desired).await?;
    crate::out!("{}", render::plan_diff(&plan, style));
    crate::outln!(
        "   {} change(s) planned; nothing sent yet.\n",
        plan.changes.len()
    );

    crate::outln!(
        "{}",
        style.bold("2. apply: one setSettings call with only the changed fields")
    );
    let applied = client.apply_plan(plan).await?;
    let saved = applied.response.as_ref().is_some_and(|r| r.save_settings);
    crate::outln!("   saveSettings: {saved}; the instance restarts once.\n");

    crate::outln!("{}", style.bold("3. get: the instance's settings now"));
    let settings = client.get_settings().await?;
    for line in render::settings_table(&settings, style, false).lines() {
        crate::outln!("   {line}");
    }
    crate::outln!();

    crate::outln!("{}", style.bold("4. apply the same settings again"));
    let again = client.apply(&desired).await?;
    let stats = sandbox.stats(DEFAULT_INSTANCE_ID);
    let (calls, restarts) = stats.map_or((0, 0), |s| (s.set_settings_calls, s.restarts));
    if again.sent() {
        crate::outln!(
            "   {} a second setSettings was sent",
            style.red("unexpected:")
        );
        return Ok(Exit::Failed);
    }
    crate::outln!("   already as desired: nothing sent (setSettings calls so far: {calls}, restarts: {restarts}).");
    let _ = sandbox.shutdown().await;
    Ok(Exit::Ok)
}
