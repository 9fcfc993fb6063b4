//! Reading JSON bytes straight into the generated types, with no `serde_json::Value` in
//! between: the one-pass reader of a *plain* settings object and the typed value readers the
//! generated [`ReadPlain`] impls call. Reached by generated code through `__private`.
//!
//! The one-pass reader only takes what it can read with certainty: a JSON object whose keys
//! all differ and whose known fields hold values of their type. For such a body it produces
//! exactly what `from_json_value` produces from the parsed `Value` (the forms it is not sure of
//! go through the very readers `from_json_value` calls). Anything else (not JSON, not an
//! object, a repeated key, a value of the wrong type) makes it give up, and the caller reads the
//! body the full way, which reports every problem with its usual wording.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::checks;

/// A generated type read key by key from a JSON object (implemented by `settings_api!` for
/// `Settings` and `SettingsPatch`).
pub trait ReadPlain: Default {
    /// How many keys [`read_key`](Self::read_key) knows (the indexes it returns are below).
    const KEYS: usize;

    /// Reads the value of `key` from `map` into `self`: the key's index if it names a field,
    /// `None` if it went to the type's unknown fields. An error if the value (or the key) is
    /// not plain.
    fn read_key<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<Option<usize>, A::Error>;
}

/// What [`read_plain`] read: the value, and which known keys the object had.
pub struct PlainRead<T> {
    /// The value read.
    pub value: T,
    present: Vec<bool>,
}

impl<T> PlainRead<T> {
    /// Whether the object had the key with index `index` (see [`ReadPlain::read_key`]).
    pub fn has(&self, index: usize) -> bool {
        self.present.get(index).copied().unwrap_or(false)
    }
}

/// Reads `bytes` in one pass if they are a plain JSON object of `T` (see the module docs);
/// `None` otherwise.
pub fn read_plain<T: ReadPlain>(bytes: &[u8]) -> Option<PlainRead<T>> {
    // Checked once here, the text need not be checked string by string (a fifth of the
    // parse). Bytes that are not UTF-8 are not a plain object.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let read = de::Deserializer::deserialize_map(&mut de, ObjectVisitor(PhantomData)).ok()?;
    de.end().ok()?;
    Some(read)
}

/// The error the readers give up with; never shown (the caller reads the body again).
pub fn not_plain<E: de::Error>() -> E {
    E::custom("not a plain settings object")
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: ReadPlain> Visitor<'de> for ObjectVisitor<T> {
    type Value = PlainRead<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PlainRead<T>, A::Error> {
        let mut value = T::default();
        let mut present = vec![false; T::KEYS];
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if let Some(i) = value.read_key(&key.0, &mut map)? {
                match present.get_mut(i) {
                    Some(seen) if !*seen => *seen = true,
                    // A repeated key: the full reader keeps its last value, at its first place.
                    _ => return Err(not_plain()),
                }
            }
        }
        Ok(PlainRead { value, present })
    }
}

/// A key of a JSON object, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads the next value of `map` as `SettingsPatch::set_json` reads the value of a field of
/// Rust type `T` (`bool` for yes/no, `i64`, `String`).
pub fn read_strict<'de, T, A>(map: &mut A, field: &'static str) -> Result<T, A::Error>
where
    A: MapAccess<'de>,
    ReadField<T>: DeserializeSeed<'de, Value = T>,
{
    map.next_value_seed(ReadField::strict(field))
}

/// Reads the next value of `map` as `Settings::from_json_value` reads the value of a field of
/// Rust type `T` (`"Yes"`, `"true"`, `"5000"` and `5000.0` too).
pub fn read_lenient<'de, T, A>(map: &mut A, field: &'static str) -> Result<T, A::Error>
where
    A: MapAccess<'de>,
    ReadField<T>: DeserializeSeed<'de, Value = T>,
{
    map.next_value_seed(ReadField::lenient(field))
}

/// [`read_lenient`] for a read-only field of `getSettings`: `null` reads as absent.
pub fn read_lenient_or_null<'de, T, A>(
    map: &mut A,
    field: &'static str,
) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    ReadField<T>: DeserializeSeed<'de, Value = T>,
{
    map.next_value_seed(Nullable(ReadField::lenient(field)))
}

/// Reads the value of one field: as `SettingsPatch::set_json` does (`strict`), or leniently,
/// as `Settings::from_json_value` does. `T` is the Rust type of the field: `bool` (yes/no),
/// `i64` or `String`.
pub struct ReadField<T> {
    field: &'static str,
    lenient: bool,
    ty: PhantomData<fn() -> T>,
}

impl<T> ReadField<T> {
    fn strict(field: &'static str) -> Self {
        ReadField {
            field,
            lenient: false,
            ty: PhantomData,
        }
    }

    fn lenient(field: &'static str) -> Self {
        ReadField {
            field,
            lenient: true,
            ty: PhantomData,
        }
    }

    /// The lenient form `from_json_value` accepts for `v`, read by the same function it calls.
    fn lenient_value<E: de::Error>(
        &self,
        v: Value,
        read: fn(&'static str, &Value) -> Result<T, crate::Violation>,
    ) -> Result<T, E> {
        if !self.lenient {
            return Err(not_plain());
        }
        read(self.field, &v).map_err(|_| not_plain())
    }
}

impl<'de> DeserializeSeed<'de> for ReadField<bool> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ReadField<bool> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"yes\" or \"no\"")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        match v {
            "yes" => Ok(true),
            "no" => Ok(false),
            _ => self.lenient_value(Value::String(v.to_owned()), checks::read_yes_no),
        }
    }
}

impl<'de> DeserializeSeed<'de> for ReadField<i64> {
    type Value = i64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<i64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ReadField<i64> {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| not_plain())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        // What `serde_json::Value` makes of the number, read as `from_json_value` reads it.
        self.lenient_value(Value::from(v), checks::read_integer)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        self.lenient_value(Value::String(v.to_owned()), checks::read_integer)
    }
}

impl<'de> DeserializeSeed<'de> for ReadField<String> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ReadField<String> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
}

/// A value or `null` (absent).
struct Nullable<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

/// `"yes"` or `"no"`, as the wire spells a yes/no setting.
pub fn yes_no_str(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
