//! `greenapi_settings/notifications.py`: the notification bodies as `TypedDict`s.

use crate::model::Spec;

/// The Python module (empty for a spec without notifications).
pub fn render(spec: &Spec) -> String {
    let _ = spec;
    String::new()
}
