//! `watch`: a long-running loop that keeps instances at a settings file — it reads every
//! instance on a schedule, records what drifted, and with `--repair` re-sends only the drifted
//! fields, verified as `apply --wait` does (the core's [`greenapi_settings::reconcile`]).

pub mod history;
pub mod record;
