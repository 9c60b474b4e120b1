//! A response enum that tolerates values the vendor adds later.

use std::fmt;

use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value of a response enum: one the spec lists ([`OpenEnum::Known`]), or one it does not
/// (yet) — kept as the vendor sent it instead of failing the whole response.
///
/// ```
/// use agentstatus_runtime::OpenEnum;
/// #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
/// #[serde(rename_all = "lowercase")]
/// enum Busyness { Ok, Full }
///
/// let v: Vec<OpenEnum<Busyness>> = serde_json::from_str(r#"["ok", "overloaded"]"#).unwrap();
/// assert_eq!(v[0], OpenEnum::Known(Busyness::Ok));
/// assert_eq!(v[1], OpenEnum::Unknown("overloaded".into()));
/// assert_eq!(serde_json::to_string(&v).unwrap(), r#"["ok","overloaded"]"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpenEnum<T> {
    /// A value the spec lists.
    Known(T),
    /// A value the spec does not list, kept as the server sent it.
    Unknown(String),
}

impl<T> OpenEnum<T> {
    /// The known value, if it is one.
    pub fn known(&self) -> Option<&T> {
        match self {
            Self::Known(t) => Some(t),
            Self::Unknown(_) => None,
        }
    }
}

impl<T: fmt::Display> fmt::Display for OpenEnum<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Known(t) => t.fmt(f),
            Self::Unknown(s) => f.write_str(s),
        }
    }
}

impl<T> From<T> for OpenEnum<T> {
    fn from(t: T) -> Self {
        Self::Known(t)
    }
}

impl<T: Serialize> Serialize for OpenEnum<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Known(t) => t.serialize(s),
            Self::Unknown(v) => s.serialize_str(v),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for OpenEnum<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        let known: Result<T, serde::de::value::Error> =
            T::deserialize(raw.as_str().into_deserializer());
        Ok(match known {
            Ok(t) => Self::Known(t),
            Err(_) => Self::Unknown(raw),
        })
    }
}
