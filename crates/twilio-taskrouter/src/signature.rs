//! Twilio's request signature, `X-Twilio-Signature` (feature `signature`, on with `watch` and
//! `fake`): base64 of HMAC-SHA1, keyed with the account's auth token, over the full URL Twilio
//! requested followed by every POST parameter, sorted by name, as name then value with nothing
//! between. Evidence: twilio/twilio-python `twilio/request_validator.py` (`compute_signature`)
//! @ `103fda8decb00bffcebea2b4fb5a73e9b258a78c`, and its test vector
//! (`tests/unit/test_request_validator.py` @ `e2df36ac5141ce5b540b2de72a520cd2b39e81cd`, checked
//! below); `specs/twilio-taskrouter/NOTES.md#push-channel-event-callbacks-for-watch`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The name of the header Twilio signs its requests with.
pub const HEADER: &str = "X-Twilio-Signature";

type HmacSha1 = Hmac<Sha1>;

fn mac(auth_token: &[u8], url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // by name; a name given twice keeps its values in a fixed order too
    sorted.sort();
    // HMAC takes a key of any length
    let mut mac = HmacSha1::new_from_slice(auth_token).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac
}

/// The signature Twilio sends for a POST of `params` to `url`, keyed with `auth_token`.
pub fn sign(auth_token: &[u8], url: &str, params: &[(String, String)]) -> String {
    let digest = mac(auth_token, url, params).finalize().into_bytes();
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// Whether `signature` (the header's value) is Twilio's for a POST of `params` to `url`: compared
/// in constant time (`hmac`'s `verify_slice`). A value that is not base64 of 20 bytes is false.
pub fn verify(auth_token: &[u8], url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    mac(auth_token, url, params).verify_slice(&given).is_ok()
}

/// The URLs a signature is checked against for the public URL `url`: the URL itself, and the
/// same URL with its port written out or left out, as twilio-python's `validate` accepts
/// (`remove_port`/`add_port`: a proxy or Twilio may state the scheme's default port or not).
pub fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return out;
    };
    let other = if parsed.port().is_some() {
        let mut u = parsed.clone();
        let _ = u.set_port(None);
        Some(u.to_string())
    } else {
        parsed.port_or_known_default().and_then(|p| {
            // `Url` drops a scheme's default port: written out by hand
            let host = parsed.host_str()?;
            let host_port = format!("{host}:{p}");
            let at = url.find(host)?;
            let mut s = url.to_string();
            s.replace_range(at..at + host.len(), &host_port);
            Some(s)
        })
    };
    out.extend(other.filter(|o| o != url));
    out
}

/// The parameters of an `application/x-www-form-urlencoded` body, in their order.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// twilio-python's own test vector (tests/unit/test_request_validator.py @ e2df36ac).
    fn vector() -> (&'static str, Vec<(String, String)>) {
        (
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            pairs(&[
                ("CallSid", "CA1234567890ABCDE"),
                ("Digits", "1234"),
                ("From", "+14158675309"),
                ("To", "+18005551212"),
                ("Caller", "+14158675309"),
            ]),
        )
    }

    #[test]
    fn twilio_pythons_test_vector() {
        let (url, params) = vector();
        assert_eq!(sign(b"12345", url, &params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(verify(
            b"12345",
            url,
            &params,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // the order the parameters came in does not matter
        let mut reversed = params.clone();
        reversed.reverse();
        assert!(verify(
            b"12345",
            url,
            &reversed,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn the_port_variants_match_twilio_pythons() {
        let (url, params) = vector();
        // twilio-python: "hash of uri with port 443"
        let with_port = url_variants(url);
        assert_eq!(with_port.len(), 2);
        assert!(verify(
            b"12345",
            &with_port[1],
            &params,
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        let explicit = url.replace(".com", ".com:1234");
        assert_eq!(url_variants(&explicit)[1], url);
    }

    #[test]
    fn anything_else_is_refused() {
        let (url, params) = vector();
        let good = sign(b"12345", url, &params);
        assert!(!verify(b"12346", url, &params, &good), "another token");
        assert!(!verify(
            b"12345",
            "https://mycompany.com/other",
            &params,
            &good
        ));
        let mut changed = params.clone();
        changed[1].1 = "1235".into();
        assert!(!verify(b"12345", url, &changed, &good), "a changed value");
        let mut more = params.clone();
        more.push(("Extra".into(), String::new()));
        assert!(!verify(b"12345", url, &more, &good), "an added parameter");
        assert!(!verify(b"12345", url, &params, ""), "empty");
        assert!(!verify(b"12345", url, &params, "not base64!"), "not base64");
        assert!(!verify(b"12345", url, &params, "AAAA"), "too short");
    }

    #[test]
    fn form_bodies_decode() {
        let p = form(b"EventType=worker.activity.update&WorkerName=Ada+Lovelace&X=%26");
        assert_eq!(
            p,
            pairs(&[
                ("EventType", "worker.activity.update"),
                ("WorkerName", "Ada Lovelace"),
                ("X", "&")
            ])
        );
    }
}
