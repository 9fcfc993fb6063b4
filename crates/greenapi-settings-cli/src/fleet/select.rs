//! Running a fleet command on part of the instances file (`--only`, `--limit`): a canary
//! without editing the file. Only the selected instances are read, changed and reported; the
//! report records the selection, and a later `--resume` from it (with another selection or
//! none) carries on with the rest.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::Instance;
use crate::exit::CliError;

/// Which instances of the file a run works on (see [`Selection::apply`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// `--only`: these ids (each must be in the file).
    pub only: Option<Vec<u64>>,
    /// `--limit`: the first N instances in file order, after `--only`.
    pub limit: Option<usize>,
}

/// Most missing ids named in the error of [`Selection::apply`].
const NAMED: usize = 10;

impl Selection {
    /// Whether every instance of the file is selected.
    pub fn is_all(&self) -> bool {
        self.only.is_none() && self.limit.is_none()
    }

    /// The selected instances, in file order: those `--only` names (an id that is not in the
    /// file `shown` is an error naming it, exit 2), then the first `--limit` of them.
    pub fn apply(&self, instances: Vec<Instance>, shown: &str) -> Result<Vec<Instance>, CliError> {
        let mut selected = match &self.only {
            None => instances,
            Some(only) => {
                let in_file: BTreeSet<u64> = instances.iter().map(|i| i.id).collect();
                let missing: Vec<u64> = only
                    .iter()
                    .copied()
                    .filter(|id| !in_file.contains(id))
                    .collect();
                if !missing.is_empty() {
                    let mut named: Vec<String> =
                        missing.iter().take(NAMED).map(u64::to_string).collect();
                    if missing.len() > NAMED {
                        named.push(format!("and {} more", missing.len() - NAMED));
                    }
                    return Err(CliError::usage(format!(
                        "--only: {} {} not in {shown}: {}; nothing was sent",
                        missing.len(),
                        if missing.len() == 1 {
                            "id is"
                        } else {
                            "ids are"
                        },
                        named.join(", ")
                    )));
                }
                let wanted: BTreeSet<u64> = only.iter().copied().collect();
                instances
                    .into_iter()
                    .filter(|i| wanted.contains(&i.id))
                    .collect()
            }
        };
        if let Some(n) = self.limit {
            selected.truncate(n);
        }
        Ok(selected)
    }

    /// The report's `selection`: the options and how many of the file's instances they kept;
    /// `None` when every instance was selected.
    pub fn describe(&self, selected: usize, in_file: usize) -> Option<Value> {
        if self.is_all() {
            return None;
        }
        Some(json!({
            "only": self.only,
            "limit": self.limit,
            "selected": selected,
            "inFile": in_file,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenapi_settings::ApiToken;

    fn fleet(ids: &[u64]) -> Vec<Instance> {
        ids.iter()
            .map(|&id| Instance {
                id,
                token: ApiToken::new(format!("token-{id}")),
                api_url: "https://api.example".into(),
            })
            .collect()
    }

    fn ids(v: &[Instance]) -> Vec<u64> {
        v.iter().map(|i| i.id).collect()
    }

    #[test]
    fn only_keeps_the_file_order_and_limit_applies_after_it() {
        let all = fleet(&[5, 3, 9, 1, 7]);
        let s = |only: Option<Vec<u64>>, limit| Selection { only, limit };
        assert_eq!(
            ids(&s(None, None).apply(all.clone(), "f").unwrap()),
            [5, 3, 9, 1, 7]
        );
        assert_eq!(
            ids(&s(None, Some(2)).apply(all.clone(), "f").unwrap()),
            [5, 3]
        );
        assert_eq!(
            ids(&s(None, Some(99)).apply(all.clone(), "f").unwrap()).len(),
            5
        );
        let only = Some(vec![7, 9, 5]);
        assert_eq!(
            ids(&s(only.clone(), None).apply(all.clone(), "f").unwrap()),
            [5, 9, 7]
        );
        assert_eq!(ids(&s(only, Some(2)).apply(all, "f").unwrap()), [5, 9]);
    }

    #[test]
    fn an_id_not_in_the_file_is_named_and_long_lists_are_cut() {
        let all = fleet(&[1, 2]);
        let e = Selection {
            only: Some(vec![2, 42]),
            limit: None,
        }
        .apply(all.clone(), "fleet.csv")
        .unwrap_err();
        assert_eq!(e.exit, crate::exit::Exit::Usage);
        assert_eq!(
            e.message,
            "--only: 1 id is not in fleet.csv: 42; nothing was sent"
        );
        let e = Selection {
            only: Some((100..130).collect()),
            limit: None,
        }
        .apply(all, "fleet.csv")
        .unwrap_err();
        assert!(
            e.message.contains("30 ids are not in fleet.csv: 100, 101"),
            "{e}"
        );
        assert!(e.message.contains("109, and 20 more;"), "{e}");
    }

    #[test]
    fn the_report_describes_a_selection_only() {
        assert_eq!(Selection::default().describe(3, 3), None);
        let s = Selection {
            only: None,
            limit: Some(1),
        };
        assert_eq!(
            s.describe(1, 3),
            Some(json!({"only": null, "limit": 1, "selected": 1, "inFile": 3}))
        );
    }
}
