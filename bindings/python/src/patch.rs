//! `SettingsPatch`: keyword arguments in, the core crate's `SettingsPatch` inside.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};
use serde_json::Value;

use greenapi_settings::{FieldInfo, SettingsPatch, FIELDS};

use crate::convert::{field_repr, field_value, json_to_py, mapping_to_json, unfit_violation};
use crate::errors::validation_error;
use crate::fields::{field_attr, unknown_keyword_error, writable_by_snake};
use crate::plain::{self, Names};
use crate::report::{PyViolation, WarningTexts};
use crate::signature;
use crate::values::{Checked, PySettings, PySettingsPatch};

/// The snake_case names of `FIELDS`, in order, as interned Python strings.
fn interned_snake_names(py: Python<'_>) -> &'static [Py<PyString>] {
    static NAMES: PyOnceLock<Vec<Py<PyString>>> = PyOnceLock::new();
    NAMES.get_or_init(py, || {
        FIELDS
            .iter()
            .map(|f| PyString::intern(py, f.snake).unbind())
            .collect()
    })
}

/// Builds a patch from snake_case keyword arguments. Unknown names are a `TypeError` naming
/// close matches; bad values are one `ValidationError` listing every one of them. `None`
/// leaves a field unset.
pub fn patch_from_kwargs(
    py: Python<'_>,
    what: &str,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<SettingsPatch> {
    let mut patch = SettingsPatch::new();
    let Some(kwargs) = kwargs else {
        return Ok(patch);
    };
    let mut unknown = Vec::new();
    let mut problems = Vec::new();
    let names = interned_snake_names(py);
    let mut next = 0;
    for (k, v) in kwargs.iter() {
        // Keyword names are interned strings: found by identity, in field order first, without
        // copying the name out of Python (that copy and the string search were most of the
        // cost of `SettingsPatch(**kw)`). Anything else is looked up by its text.
        let by_identity = (next..names.len())
            .chain(0..next)
            .find(|&i| names[i].as_ptr() == k.as_ptr());
        let field = match by_identity {
            Some(i) => {
                next = i + 1;
                &FIELDS[i]
            }
            None => {
                let key: String = k.extract()?;
                match writable_by_snake(&key) {
                    Some(field) => field,
                    None => {
                        unknown.push(key);
                        continue;
                    }
                }
            }
        };
        if v.is_none() {
            continue;
        }
        let result = match field_value(Some(field), &v) {
            Ok(value) => patch.set_json(field.name, &value),
            Err(unfit) => Err(unfit_violation(field.snake, Some(field), &unfit)),
        };
        if let Err(violation) = result {
            problems.push(violation);
        }
    }
    if !unknown.is_empty() {
        return Err(unknown_keyword_error(what, &unknown));
    }
    if !problems.is_empty() {
        return Err(validation_error(py, problems));
    }
    Ok(patch)
}

/// A patch from a mapping in API spelling or snake_case (`"yes"`/`"no"` or bool).
pub fn patch_from_mapping(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<SettingsPatch> {
    let (map, mut problems) = mapping_to_json(py, data, FieldInfo::find, true)?;
    match SettingsPatch::from_json_value(&Value::Object(map)) {
        Ok(patch) if problems.is_empty() => Ok(patch),
        Ok(_) => Err(validation_error(py, problems)),
        Err(mut found) => {
            found.append(&mut problems);
            Err(validation_error(py, found))
        }
    }
}

/// The desired change of a client call: a `SettingsPatch`, a mapping, or keyword arguments.
pub fn patch_from_call(
    py: Python<'_>,
    what: &str,
    patch: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<SettingsPatch> {
    let has_kwargs = kwargs.is_some_and(|k| !k.is_empty());
    match patch {
        Some(p) if has_kwargs && !p.is_none() => Err(PyTypeError::new_err(format!(
            "{what} takes a SettingsPatch or keyword arguments, not both"
        ))),
        Some(p) if !p.is_none() => match p.cast::<PySettingsPatch>() {
            Ok(p) => Ok(p.get().inner.clone()),
            Err(_) => patch_from_mapping(py, p),
        },
        _ => patch_from_kwargs(py, what, kwargs),
    }
}

/// The checked patch of a `set_settings` call: a `SettingsPatch` argument's own (checked
/// on its first send and kept: it is immutable), otherwise the mapping's or the keywords'
/// patch, checked now. Errors raise `ValidationError`, on every call.
pub fn checked_from_call(
    py: Python<'_>,
    what: &str,
    patch: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Arc<Checked>> {
    let has_kwargs = kwargs.is_some_and(|k| !k.is_empty());
    if let Some(p) = patch.and_then(|p| p.cast::<PySettingsPatch>().ok()) {
        if !has_kwargs {
            let p = p.get();
            if let Some(checked) = p.checked.get() {
                return Ok(Arc::clone(checked));
            }
            let checked = check(py, &p.inner)?;
            return Ok(Arc::clone(p.checked.get_or_init(|| checked)));
        }
    }
    check(py, &patch_from_call(py, what, patch, kwargs)?)
}

fn check(py: Python<'_>, patch: &SettingsPatch) -> PyResult<Arc<Checked>> {
    let patch = patch
        .check()
        .map_err(|e| validation_error(py, e.violations))?;
    let warnings = WarningTexts::new(patch.warnings())?;
    Ok(Arc::new(Checked { patch, warnings }))
}

#[pymethods]
impl PySettingsPatch {
    // Exactly `(*args, **kwargs)` (no `py` argument either) is the one signature pyo3 passes
    // through as it is: any other one (`(**kwargs)` included) copies every keyword name into
    // a new `bytes` object and the pairs into a new dict under `abi3-py39`, 16k of the 46k
    // instructions of `SettingsPatch(**kw).validate()` with all 24 settings. The positional
    // arguments are refused here, with Python's own message.
    #[new]
    #[pyo3(signature = (*args, **kwargs), text_signature = "(**kwargs)")]
    fn new(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let py = args.py();
        if !args.is_empty() {
            let n = args.len();
            let were = if n == 1 { "was" } else { "were" };
            return Err(PyTypeError::new_err(format!(
                "SettingsPatch.__new__() takes 0 positional arguments but {n} {were} given"
            )));
        }
        patch_from_kwargs(py, "SettingsPatch()", kwargs).map(Self::from)
    }

    /// A patch from a mapping in API spelling or snake_case, yes/no as "yes"/"no" or bool.
    #[classmethod]
    fn from_dict(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        patch_from_mapping(py, data).map(Self::from)
    }

    /// The set fields as plain data for `json.dumps`: `names="api"` gives the request body
    /// (API spelling, "yes"/"no"), `names="snake"` the keywords `SettingsPatch(**d)` takes.
    /// `webhookUrlToken` is `<redacted>` unless `reveal_secrets=True`.
    #[pyo3(signature = (*, names, reveal_secrets = false))]
    fn to_dict<'py>(
        &self,
        py: Python<'py>,
        names: &str,
        reveal_secrets: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        plain::to_py(
            py,
            &plain::patch(Names::parse(names)?, &self.inner, reveal_secrets),
        )
    }

    /// `json.dumps(self.to_dict(names=..., reveal_secrets=...), indent=indent)`.
    #[pyo3(signature = (*, names, reveal_secrets = false, indent = None))]
    fn to_json(
        &self,
        py: Python<'_>,
        names: &str,
        reveal_secrets: bool,
        indent: Option<usize>,
    ) -> PyResult<String> {
        let value = plain::patch(Names::parse(names)?, &self.inner, reveal_secrets);
        plain::to_json(py, &value, indent)
    }

    /// A new patch with these fields changed, like `dataclasses.replace`: keywords as the
    /// constructor takes them (checked the same way), `None` unsets a field.
    #[pyo3(signature = (**changes))]
    fn replace(&self, py: Python<'_>, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let what = "SettingsPatch.replace()";
        let set = patch_from_kwargs(py, what, changes)?;
        let mut wire = self.inner.to_json_value();
        if let (Some(changes), Value::Object(map)) = (changes, &mut wire) {
            for (k, v) in changes.iter() {
                if v.is_none() {
                    let key: String = k.extract()?;
                    if let Some(field) = writable_by_snake(&key) {
                        map.remove(field.name);
                    }
                }
            }
        }
        let mut patch =
            SettingsPatch::from_json_value(&wire).map_err(|vs| validation_error(py, vs))?;
        patch.merge(&set);
        Ok(patch.into())
    }

    /// The keywords of `SettingsPatch(...)`, one per setting of the spec, for
    /// `inspect.signature` and `help()` (the constructor's own signature is `(*args,
    /// **kwargs)`: see `new`).
    #[classattr]
    fn __signature__(py: Python<'_>) -> PyResult<Py<PyAny>> {
        signature::patch_keywords(py)
    }

    /// pydantic v2: a `SettingsPatch` field of a model takes a `SettingsPatch` or a mapping
    /// (as `from_dict`) and dumps as `to_dict(names="api")`.
    #[classmethod]
    fn __get_pydantic_core_schema__<'py>(
        cls: &Bound<'py, PyType>,
        source: &Bound<'py, PyAny>,
        handler: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = (source, handler);
        cls.py()
            .import("greenapi_settings._pydantic")?
            .call_method1("core_schema", (cls,))
    }

    /// Returns the warnings; raises `ValidationError` with every error. With `current`, the
    /// cross-field rules are evaluated on the current settings merged with this patch.
    #[pyo3(signature = (current=None))]
    fn validate(
        &self,
        py: Python<'_>,
        current: Option<PyRef<'_, PySettings>>,
    ) -> PyResult<Vec<PyViolation>> {
        let report = match current {
            Some(c) => self.inner.validate_against(&c.inner),
            None => self.inner.validate(),
        };
        match report.into_result() {
            Ok(warnings) => Ok(warnings.into_iter().map(PyViolation::from).collect()),
            Err(e) => Err(validation_error(py, e.violations)),
        }
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Pickling (and `copy`): `SettingsPatch.from_dict(<the request body>)`, secret included.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>,))> {
        let from_dict = slf.get_type().getattr("from_dict")?;
        let body = json_to_py(slf.py(), &slf.get().inner.to_json_value())?;
        Ok((from_dict, (body,)))
    }

    fn __getattr__<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        field_attr(py, "SettingsPatch", writable_by_snake(name), name, |n| {
            self.inner.get_json(n)
        })
    }

    fn __dir__(slf: &Bound<'_, Self>) -> PyResult<Vec<String>> {
        let mut names: Vec<String> = slf.get_type().dir()?.extract()?;
        names.extend(FIELDS.iter().map(|f| f.snake.to_string()));
        Ok(names)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let parts: Vec<String> = FIELDS
            .iter()
            .filter_map(|f| {
                let v = self.inner.get_json(f.name)?;
                Some(format!("{}={}", f.snake, field_repr(py, f, &v)))
            })
            .collect();
        format!("SettingsPatch({})", parts.join(", "))
    }
}
