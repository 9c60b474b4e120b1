//! [`SecretText`]: the string of a generated type that is a secret (`format: password`).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A string the vendor's document marks as a secret (`type: string, format: password`): a
/// password, a webhook's shared secret (Microsoft Graph's `clientState`). The generated types
/// hold it in this type instead of a `String`, so `{:?}` of a request, an answer or their
/// builders never shows it: `Debug` prints `SecretText([REDACTED])`, never the value nor its
/// length.
///
/// On the wire it is the plain string (serde transparent), as the vendor sends and expects it.
/// The value is read only through [`expose`](Self::expose); it is held in a
/// [`SecretString`], so its memory is zeroed when it is dropped. There is deliberately no
/// `Display`: a secret is never formatted by accident.
///
/// ```
/// use agentstatus_runtime::SecretText;
///
/// let s = SecretText::from("hunter2");
/// assert_eq!(format!("{s:?}"), "SecretText([REDACTED])");
/// assert_eq!(s.expose(), "hunter2");
/// assert_eq!(serde_json::to_string(&s).unwrap(), r#""hunter2""#);
/// ```
#[derive(Clone)]
pub struct SecretText(SecretString);

impl SecretText {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Self {
        SecretText(SecretString::from(value.into()))
    }

    /// The secret itself. Every read of the value goes through here, so it is easy to audit.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText([REDACTED])")
    }
}

/// Equal when the two values are; the comparison reads every byte of equally long values (it
/// does not stop at the first difference), so its time says nothing but the lengths.
impl PartialEq for SecretText {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.expose().as_bytes(), other.expose().as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for SecretText {}

impl From<String> for SecretText {
    fn from(value: String) -> Self {
        SecretText::new(value)
    }
}

impl From<&str> for SecretText {
    fn from(value: &str) -> Self {
        SecretText::new(value)
    }
}

impl From<&String> for SecretText {
    fn from(value: &String) -> Self {
        SecretText::new(value.as_str())
    }
}

impl From<SecretString> for SecretText {
    fn from(value: SecretString) -> Self {
        SecretText(value)
    }
}

impl From<&SecretString> for SecretText {
    fn from(value: &SecretString) -> Self {
        SecretText(value.clone())
    }
}

impl From<SecretText> for SecretString {
    fn from(value: SecretText) -> Self {
        value.0
    }
}

impl Serialize for SecretText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretText::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_neither_the_value_nor_its_length() {
        let s = SecretText::from("correct horse battery staple");
        let debug = format!("{s:?}");
        assert!(!debug.contains("correct"), "{debug}");
        assert!(!debug.contains("28"), "{debug}");
        assert_eq!(debug, format!("{:?}", SecretText::from("x")));
        // also inside the types that hold it, pretty or not
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            secret: Option<SecretText>,
            all: Vec<SecretText>,
        }
        let h = Holder {
            secret: Some(s.clone()),
            all: vec![s],
        };
        for debug in [format!("{h:?}"), format!("{h:#?}")] {
            assert!(!debug.contains("horse"), "{debug}");
            assert!(debug.contains("[REDACTED]"), "{debug}");
        }
    }

    #[test]
    fn on_the_wire_it_is_the_plain_string() {
        let s = SecretText::from(String::from("s3cr\"et"));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#""s3cr\"et""#);
        let back: SecretText = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.expose(), "s3cr\"et");

        let object = serde_json::json!({ "clientState": s.expose() });
        #[derive(Deserialize, Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Sub {
            client_state: Option<SecretText>,
        }
        let sub: Sub = serde_json::from_value(object.clone()).unwrap();
        assert_eq!(
            sub.client_state.as_ref().map(SecretText::expose),
            Some("s3cr\"et")
        );
        assert_eq!(serde_json::to_value(&sub).unwrap(), object);
    }

    #[test]
    fn anything_but_a_string_is_refused() {
        let err = serde_json::from_str::<SecretText>("42").unwrap_err();
        assert!(err.to_string().contains("expected a string"), "{err}");
    }

    #[test]
    fn equality_is_the_values() {
        assert_eq!(SecretText::from("abc"), SecretText::from("abc".to_string()));
        assert_ne!(SecretText::from("abc"), SecretText::from("abd"));
        assert_ne!(SecretText::from("abc"), SecretText::from("abcd"));
        let kept: SecretString = SecretText::from("abc").into();
        assert_eq!(kept.expose_secret(), "abc");
        assert_eq!(SecretText::from(&kept).expose(), "abc");
    }
}
