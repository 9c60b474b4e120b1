//! The retry policy shared by every vendor client, applied in progenitor's `ClientHooks::exec`.
//!
//! - Only idempotent requests are retried (GET, PUT, HEAD, DELETE, OPTIONS); a POST — such as
//!   Rocket.Chat's `agent.status` toggle — is sent exactly once, whatever happens.
//! - Retried on connection errors (nothing answered, or the connection closed before an answer)
//!   and on 429, 502, 503 and 504.
//! - The server's wait is honoured ([`server_wait`]: `Retry-After`, seconds or HTTP date, else
//!   a 429's `X-RateLimit-Reset`, as Rocket.Chat sends it), capped at [`MAX_SERVER_WAIT`];
//!   a wait that would end past the call's deadline is not begun: the call gives up at once with
//!   the server's answer. Otherwise exponential backoff with full
//!   jitter: a random delay in `[0, min(max_delay, base_delay * 2^retry)]` (the exponential,
//!   capped schedule is `backon`'s `ExponentialBuilder`; the full jitter is drawn here, as
//!   backon's own jitter adds up to one more step and could exceed `max_delay`).
//! - Bounded by `max_attempts` and by an overall `deadline` per call: no attempt starts, and no
//!   wait is begun, that would end after it; each attempt's timeout is cut to what is left.
//! - A configured rate limit is waited for before every attempt ([`Pacer`]: the pace, with a
//!   bounded catch-up after a stall, and never more than the declared limit in one of the
//!   server's windows, counting the attempts in flight).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use backon::{BackoffBuilder as _, ExponentialBuilder};
use reqwest::{Method, StatusCode};

use crate::pace::Pacer;

/// When and how often a request is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. `1` disables retries. Default 4.
    pub max_attempts: u32,
    /// Backoff before the first retry (doubles each time, with jitter). Default 250 ms.
    pub base_delay: Duration,
    /// Upper bound of one backoff wait. Default 10 s.
    pub max_delay: Duration,
    /// Upper bound of one call, retries and waits included. Default 60 s.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            deadline: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The backoff before retry number `retry` (1-based), with full jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        // the schedule stays at `max_delay` once it gets there (and at zero from zero): no need
        // to walk further
        let mut cap = Duration::ZERO;
        for (n, step) in self.schedule().enumerate() {
            cap = step;
            if n + 1 >= retry as usize || step >= self.max_delay || step.is_zero() {
                break;
            }
        }
        full_jitter(cap)
    }

    /// The exponential schedule without jitter: `base_delay`, doubled each retry, never above
    /// `max_delay`, without end ([`execute`] bounds it by `max_attempts` and the deadline).
    pub(crate) fn schedule(&self) -> impl Iterator<Item = Duration> + use<> {
        let max = self.max_delay;
        ExponentialBuilder::new()
            .with_min_delay(self.base_delay)
            .with_factor(2.0)
            .with_max_delay(max)
            .without_max_times()
            .build()
            // backon computes in f32 seconds and starts at `base_delay` even above the cap: the
            // cap holds exactly, and the f32 error (nanoseconds) is rounded off
            .map(move |d| {
                let micros = u64::try_from(d.min(max).as_micros()).unwrap_or(u64::MAX);
                Duration::from_micros(micros).min(max)
            })
    }
}

/// A random delay in `[0, cap]` ("full jitter").
pub(crate) fn full_jitter(cap: Duration) -> Duration {
    cap.mul_f64(fastrand::f64())
}

/// A request rate no client may exceed: `requests` per `per`, as the vendor declares it. The
/// client paces a margin under it ([`RateLimit::paced`]: [`MARGIN_PERCENT`] fewer, rounded up
/// to at least one request), evenly spaced (one every `per / paced`), catching up at most
/// [`RateLimit::catch_up`] attempts at once after a stall; and it never sends an attempt while
/// `requests` others could still be counted in one window with it at the server (in flight, or
/// answered less than `per` ago). So no window of length `per` at the server ever holds more
/// than `requests`, whether the server counts in fixed or sliding windows, however the attempts
/// are delayed on their way and land bunched: a bulk run goes just under the limit without a
/// 429. The argument is in [`Pacer`]'s docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Requests allowed per `per`.
    pub requests: u32,
    /// The window `requests` are allowed in (and spread over, evenly).
    pub per: Duration,
}

impl RateLimit {
    /// `requests` per minute, evenly spaced.
    pub fn per_minute(requests: u32) -> Self {
        Self {
            requests,
            per: Duration::from_secs(60),
        }
    }

    /// The requests per `per` a client sends: the declared `requests` less [`MARGIN_PERCENT`]
    /// of them, rounded up (500 a minute is paced at 485, 200 a second at 194, 20 at 19), never
    /// below one.
    pub fn paced(&self) -> u32 {
        let keep = (u64::from(self.requests) * u64::from(MARGIN_PERCENT)).div_ceil(100);
        let keep = u32::try_from(keep).unwrap_or(u32::MAX);
        self.requests.saturating_sub(keep).max(1.min(self.requests))
    }

    /// How many attempts a client may send at once when its pace fell behind (a stall: the
    /// process not scheduled, every slot waiting on slow answers): a tenth of [`paced`], at
    /// least one (19 for 200 a second, 48 for 500 a minute; 1, no catch-up, under 20). Time
    /// lost beyond that is lost; the declared limit holds either way.
    ///
    /// [`paced`]: RateLimit::paced
    pub fn catch_up(&self) -> u32 {
        (self.paced() / 10).max(1)
    }

    /// The pacer a client with this limit waits for before every attempt; `None` when the
    /// limit allows nothing (zero requests or a zero window), as if none were set.
    pub fn pacer(&self) -> Option<Arc<Pacer>> {
        Pacer::new(self).map(Arc::new)
    }
}

/// What a [`RateLimit`] counts: every request of a client together, or each operation (one
/// route and method) on its own, as the vendor's server counts them. Rocket.Chat's REST API
/// limiter keeps one window per route and method (`apps/meteor/app/api/server/api.ts`), so its
/// client paces each operation on its own; a server that counts every request of a client
/// (Chatwoot's Rack::Attack `req/ip`, Engage Digital's per-token limit) is paced as one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateLimitScope {
    /// Every request of the client, whatever its operation, in one bucket (the default).
    #[default]
    Client,
    /// One bucket per operation (progenitor's `operation_id`: one route and method each).
    Operation,
}

/// A client's limiter: one pacer, or one per operation ([`RateLimitScope`]).
#[derive(Debug, Clone)]
pub(crate) enum Limiter {
    /// One pacer for every request.
    Client(Arc<Pacer>),
    /// One pacer per operation, made on its first request.
    Operation {
        limit: RateLimit,
        buckets: Arc<std::sync::Mutex<std::collections::HashMap<&'static str, Arc<Pacer>>>>,
    },
}

impl Limiter {
    /// The limiter of `limit` counted by `scope`; `None` when it allows nothing to be paced
    /// (zero requests).
    pub(crate) fn new(limit: RateLimit, scope: RateLimitScope) -> Option<Self> {
        let one = limit.pacer()?;
        Some(match scope {
            RateLimitScope::Client => Limiter::Client(one),
            RateLimitScope::Operation => Limiter::Operation {
                limit,
                buckets: Arc::default(),
            },
        })
    }

    /// The pacer a request of `operation` waits for (a request without one shares the pacer
    /// of the empty name).
    pub(crate) fn bucket(&self, operation: Option<&'static str>) -> Option<Arc<Pacer>> {
        match self {
            Limiter::Client(one) => Some(one.clone()),
            Limiter::Operation { limit, buckets } => {
                let mut buckets = buckets.lock().unwrap_or_else(|e| e.into_inner());
                let key = operation.unwrap_or("");
                if let Some(b) = buckets.get(key) {
                    return Some(b.clone());
                }
                let b = limit.pacer()?;
                buckets.insert(key, b.clone());
                Some(b)
            }
        }
    }
}

/// How much of a declared [`RateLimit`] a client keeps unused, in percent: its requests are
/// paced that much under the limit, so that answers slower than `per * MARGIN_PERCENT / 100`
/// (31 ms for 200 a second) are needed before the window rule ([`Pacer`]) holds the client
/// back.
pub const MARGIN_PERCENT: u32 = 3;

/// Can this request be sent again without changing its effect?
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::PUT | Method::HEAD | Method::DELETE | Method::OPTIONS
    )
}

/// Statuses worth another attempt.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// The longest a server's wait (`Retry-After`, or a 429's `X-RateLimit-Reset`: [`server_wait`])
/// is honoured as asked; a longer one is cut to this. A client's retries wait at most this (and
/// never past the call's deadline); sync holds a desk's writes at most this long.
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(300);

/// The server's wait ([`server_wait`]) capped at [`MAX_SERVER_WAIT`].
pub fn capped_server_wait(
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    now: SystemTime,
) -> Option<Duration> {
    server_wait(status, headers, now).map(|w| w.min(MAX_SERVER_WAIT))
}

/// `Retry-After` as a delay: seconds, or an HTTP date (RFC 9110 §10.2.3), a date read against
/// the server's clock ([`server_now`]).
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: SystemTime) -> Option<Duration> {
    let now = server_now(headers, now);
    parse_retry_after(headers.get(reqwest::header::RETRY_AFTER)?.as_bytes(), now)
}

/// How far a server's `Date` may be from our clock and still be taken for the same clock: the
/// header is to the second, and the answer took some time to arrive.
pub const CLOCK_SKEW_TOLERANCE: Duration = Duration::from_secs(2);

/// The server's clock when it answered, to read the times it gives (an HTTP-date `Retry-After`,
/// an epoch `X-RateLimit-Reset`) against: its answer's `Date` header (RFC 9110 §6.6.1) when that
/// is more than [`CLOCK_SKEW_TOLERANCE`] off `now`, ours (`now`) otherwise or without one. A
/// server whose clock is an hour ahead of ours asks for a wait of seconds, not of an hour; ours
/// stepped back or forwards (an NTP step) changes nothing either.
pub fn server_now(headers: &reqwest::header::HeaderMap, now: SystemTime) -> SystemTime {
    let Some(date) = headers
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
    else {
        return now;
    };
    let off = date
        .duration_since(now)
        .or_else(|_| now.duration_since(date))
        .unwrap_or_default();
    if off > CLOCK_SKEW_TOLERANCE {
        date
    } else {
        now
    }
}

/// A `Retry-After` value as a delay from `now`: delay-seconds (any number of digits; one too
/// large for a `u64` is `u64::MAX` seconds) or an HTTP date (a past date is zero). `None` for
/// anything else. Never panics, whatever the bytes: the delay is then compared with the
/// deadline with checked arithmetic, so a far `Retry-After` is simply not waited for.
pub fn parse_retry_after(value: &[u8], now: SystemTime) -> Option<Duration> {
    let value = std::str::from_utf8(value).ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// How long a server asked to be left alone, from an error answer's headers: `Retry-After`
/// (seconds or an HTTP date, [`parse_retry_after`]) when there is one, else, on a 429,
/// `X-RateLimit-Reset` ([`parse_rate_limit_reset`]), which Rocket.Chat sends instead (epoch
/// milliseconds). `None` when the answer says neither. A time is read against the server's
/// clock ([`server_now`]: its `Date`, when that is off ours). The delay is the server's word,
/// not bounded here: a caller that waits for it caps it.
pub fn server_wait(
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    now: SystemTime,
) -> Option<Duration> {
    let now = server_now(headers, now);
    if let Some(d) = retry_after(headers, now) {
        return Some(d);
    }
    if status != reqwest::StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    parse_rate_limit_reset(headers.get("x-ratelimit-reset")?.as_bytes(), now)
}

/// An `X-RateLimit-Reset` value as a delay from `now`. The header is not standard and vendors
/// write it three ways, told apart by size: epoch milliseconds (at least 10^12: Rocket.Chat's
/// `new Date().getTime() + timeToReset`), epoch seconds (at least 10^9: GitHub's), or seconds
/// from now (smaller: the IETF draft's `RateLimit-Reset`). A time in the past is zero;
/// anything but digits (a decimal part is dropped) is `None`. Never panics.
pub fn parse_rate_limit_reset(value: &[u8], now: SystemTime) -> Option<Duration> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let whole = value.split_once('.').map_or(value, |(w, _)| w);
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = whole.parse::<u64>().unwrap_or(u64::MAX);
    let since_epoch = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let at = if n >= 1_000_000_000_000 {
        Duration::from_millis(n)
    } else if n >= 1_000_000_000 {
        Duration::from_secs(n)
    } else {
        return Some(Duration::from_secs(n));
    };
    Some(at.saturating_sub(since_epoch))
}

/// `start + span`, or a point far enough in the future when that does not fit in an `Instant`.
pub fn deadline_after(start: Instant, span: Duration) -> Instant {
    start
        .checked_add(span)
        .or_else(|| start.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(start)
}

/// Would a wait of `wait` from now end at or after `deadline`? (Checked: an absurd wait does.)
pub fn ends_after(wait: Duration, deadline: Instant) -> bool {
    Instant::now()
        .checked_add(wait)
        .is_none_or(|end| end >= deadline)
}

/// How long to wait before retrying after `error`, or `None` if it is not transient. For callers
/// that retry an operation they know to be idempotent although its method is not (Rocket.Chat's
/// `agent.status` with an explicit `status`), with the same rules as [`execute`].
pub fn transient_delay<E>(
    policy: &RetryPolicy,
    error: &progenitor_client::Error<E>,
    retry: u32,
) -> Option<Duration> {
    use progenitor_client::Error as E;
    let (status, headers) = match error {
        E::UnexpectedResponse(r) => (r.status(), r.headers()),
        E::ErrorResponse(rv) => (rv.status(), rv.headers()),
        E::CommunicationError(e) if retryable_error(e) => return Some(policy.backoff(retry)),
        _ => return None,
    };
    is_retryable_status(status).then(|| {
        capped_server_wait(status, headers, SystemTime::now())
            .unwrap_or_else(|| policy.backoff(retry))
    })
}

/// Run `send` (one idempotent request: sending it again changes nothing, although its method
/// is not idempotent, such as Graph's `setPresence` of the same state in the same session, or
/// Rocket.Chat's `agent.status` with an explicit `status`) and send it again on transient
/// failures, with the same rules as [`execute`]: a connection error, 429, 502, 503 or 504
/// ([`transient_delay`], `Retry-After` honoured), at most `policy.max_attempts` in all, and no
/// wait that would end at or after `policy.deadline` from the first attempt. `error_of` gives
/// the generated client's error inside the caller's error type. The last result is returned.
pub async fn resend<T, Er, X, F, Fut>(
    policy: &RetryPolicy,
    error_of: impl Fn(&Er) -> &progenitor_client::Error<X>,
    mut send: F,
) -> Result<T, Er>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Er>>,
{
    let start = Instant::now();
    let mut attempt = 1;
    loop {
        let result = send().await;
        let wait = match &result {
            Err(e) if attempt < policy.max_attempts => {
                transient_delay(policy, error_of(e), attempt)
            }
            _ => None,
        };
        match wait {
            Some(w)
                if start
                    .elapsed()
                    .checked_add(w)
                    .is_some_and(|end| end < policy.deadline) =>
            {
                tokio::time::sleep(w).await;
                attempt += 1;
            }
            _ => return result,
        }
    }
}

pub(crate) fn retryable_error(e: &reqwest::Error) -> bool {
    // connection refused / reset, or closed before an answer; not a timeout (the deadline
    // governs those) and not a body or decode error
    !e.is_timeout() && (e.is_connect() || e.is_request())
}

/// Send `request` with `client`, retrying per `policy`, each attempt waiting for `pacer`
/// (counted in flight until its answer) and limited to `attempt_timeout` and to what is left
/// of the deadline.
pub async fn execute(
    client: &reqwest::Client,
    policy: &RetryPolicy,
    pacer: Option<&Pacer>,
    attempt_timeout: Duration,
    request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    let deadline = deadline_after(Instant::now(), policy.deadline);
    execute_until(client, policy, pacer, attempt_timeout, request, deadline).await
}

/// [`execute`], with the deadline given: a call whose time started earlier (an OAuth 2.0
/// token was fetched first) has only what is left of it.
pub async fn execute_until(
    client: &reqwest::Client,
    policy: &RetryPolicy,
    pacer: Option<&Pacer>,
    attempt_timeout: Duration,
    mut request: reqwest::Request,
    deadline: Instant,
) -> reqwest::Result<reqwest::Response> {
    let retry = is_idempotent(request.method());
    let max = if retry { policy.max_attempts.max(1) } else { 1 };
    let per_attempt = request.timeout().copied().unwrap_or(attempt_timeout);
    // the waits between attempts, from the policy's schedule (jittered when taken)
    let mut schedule = policy.schedule();
    let mut attempt = 1;
    loop {
        let permit = match pacer {
            Some(p) => Some(p.acquire().await),
            None => None,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        // the next attempt's copy, made before this one consumes the request
        let next = if attempt < max {
            request.try_clone()
        } else {
            None
        };
        let timeout = per_attempt.min(left);
        *request.timeout_mut() = Some(timeout.max(Duration::from_millis(1)));
        let result = client.execute(request).await;
        // an answer (its status line): the server counted the attempt before it answered; an
        // error (a timeout, a dropped connection) leaves it in doubt, and it is counted longer
        if let (Some(permit), true) = (permit, result.is_ok()) {
            permit.answered();
        }
        let transient = match &result {
            Ok(r) if is_retryable_status(r.status()) => Some(capped_server_wait(
                r.status(),
                r.headers(),
                SystemTime::now(),
            )),
            Err(e) if retryable_error(e) => Some(None),
            _ => None,
        };
        // the schedule advances with every retry, whether the server's wait or it sets the wait
        let wait = transient.map(|after| {
            let backoff = schedule.next().map(full_jitter).unwrap_or_default();
            after.unwrap_or(backoff)
        });
        let Some(wait) = wait else { return result };
        let Some(again) = next else { return result };
        if ends_after(wait, deadline) {
            // the server's answer (429: `PresenceError::retry_after` says how long it asked
            // for) rather than a wait that could not end in time
            tracing::debug!(
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "not retried: the wait would end past the call's deadline"
            );
            return result;
        }
        drop(result);
        tokio::time::sleep(wait).await;
        request = again;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_seconds_and_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:50:07 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:00:00 GMT"),
        );
        assert_eq!(
            retry_after(&h, now),
            Some(Duration::ZERO),
            "a past date means now"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn a_servers_times_are_read_against_its_own_clock() {
        use reqwest::header::DATE;
        // (a date after 2001: epoch milliseconds of 1994 would read as epoch seconds)
        let ours = httpdate::parse_http_date("Mon, 07 Dec 2026 05:00:00 GMT").unwrap();
        let hour = Duration::from_secs(3600);
        let date = |t: SystemTime| HeaderValue::from_str(&httpdate::fmt_http_date(t)).unwrap();
        let too_many = reqwest::StatusCode::TOO_MANY_REQUESTS;
        let epoch_ms = |t: SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                .to_string()
        };
        for theirs in [ours + hour, ours - hour, ours + Duration::from_secs(1)] {
            // Rocket.Chat's reset 5 s after its own now, an HTTP-date Retry-After 30 s after
            let mut h = HeaderMap::new();
            h.insert(DATE, date(theirs));
            h.insert(
                "x-ratelimit-reset",
                HeaderValue::from_str(&epoch_ms(theirs + Duration::from_secs(5))).unwrap(),
            );
            let wait = server_wait(too_many, &h, ours).unwrap();
            assert!(
                wait == Duration::from_secs(5)
                    || (theirs == ours + Duration::from_secs(1) && wait == Duration::from_secs(6)),
                "{theirs:?}: {wait:?}"
            );
            h.insert(RETRY_AFTER, date(theirs + Duration::from_secs(30)));
            let wait = retry_after(&h, ours).unwrap();
            assert!(
                wait == Duration::from_secs(30)
                    || (theirs == ours + Duration::from_secs(1) && wait == Duration::from_secs(31)),
                "{theirs:?}: {wait:?}"
            );
            assert_eq!(server_wait(too_many, &h, ours), Some(wait));
        }
        // no Date, or one that cannot be read: our clock
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&epoch_ms(ours + Duration::from_secs(5))).unwrap(),
        );
        assert_eq!(
            server_wait(too_many, &h, ours),
            Some(Duration::from_secs(5))
        );
        h.insert(DATE, HeaderValue::from_static("yesterday"));
        assert_eq!(
            server_wait(too_many, &h, ours),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn absurd_retry_after_values_neither_panic_nor_get_waited_for() {
        let now = SystemTime::now();
        let far = parse_retry_after(b"18446744073709551615", now).unwrap();
        assert_eq!(far, Duration::from_secs(u64::MAX));
        let farther = parse_retry_after(b"99999999999999999999999999", now).unwrap();
        assert_eq!(farther, Duration::from_secs(u64::MAX));
        let deadline = deadline_after(Instant::now(), Duration::from_secs(60));
        assert!(ends_after(far, deadline));
        assert!(!ends_after(Duration::ZERO, deadline));
        assert_eq!(
            parse_retry_after(b"Fri, 31 Dec 9999 23:59:59 GMT", now).map(|d| d > far / 2),
            Some(false)
        );
        for junk in [&b"-1"[..], b"1.5", b"", b"\xff\xfe", b"+3", b"0x10"] {
            assert_eq!(parse_retry_after(junk, now), None, "{junk:?}");
        }
        let _ = deadline_after(Instant::now(), Duration::MAX);
    }

    #[test]
    fn backoff_is_jittered_below_an_exponential_cap() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        for _ in 0..200 {
            assert!(p.backoff(1) <= Duration::from_millis(100));
            assert!(p.backoff(2) <= Duration::from_millis(200));
            assert!(p.backoff(3) <= Duration::from_millis(350));
            assert!(p.backoff(30) <= Duration::from_millis(350));
        }
    }

    #[test]
    fn the_schedule_doubles_from_base_to_an_exact_cap() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        let steps: Vec<Duration> = p.schedule().take(5).collect();
        let ms = |n| Duration::from_millis(n);
        assert_eq!(steps, [ms(100), ms(200), ms(350), ms(350), ms(350)]);
        // a base above the cap starts at the cap; a zero base never waits
        let above = RetryPolicy {
            base_delay: Duration::from_secs(20),
            ..RetryPolicy::default()
        };
        assert_eq!(above.schedule().next(), Some(Duration::from_secs(10)));
        let zero = RetryPolicy {
            base_delay: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert!(zero.schedule().take(3).all(|d| d.is_zero()));
        assert_eq!(zero.backoff(3), Duration::ZERO);
        // the default: 250 ms, 500 ms, 1 s, ... 8 s, then 10 s
        let d: Vec<Duration> = RetryPolicy::default().schedule().take(7).collect();
        assert_eq!(
            d,
            [
                ms(250),
                ms(500),
                ms(1000),
                ms(2000),
                ms(4000),
                ms(8000),
                ms(10_000)
            ]
        );
        // an enormous cap neither wraps nor panics
        let huge = RetryPolicy {
            base_delay: Duration::MAX,
            max_delay: Duration::MAX,
            ..RetryPolicy::default()
        };
        assert!(huge.schedule().next().unwrap() > Duration::from_secs(1 << 40));
        let _ = huge.backoff(3);
        // a far retry number is the cap, found without walking billions of steps
        let start = Instant::now();
        assert!(RetryPolicy::default().backoff(u32::MAX) <= Duration::from_secs(10));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn only_idempotent_methods_and_transient_statuses() {
        assert!(is_idempotent(&Method::GET) && is_idempotent(&Method::PUT));
        assert!(!is_idempotent(&Method::POST) && !is_idempotent(&Method::PATCH));
        for s in [429, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(s).unwrap()));
        }
        for s in [400, 401, 404, 500, 501] {
            assert!(!is_retryable_status(StatusCode::from_u16(s).unwrap()));
        }
    }

    /// An answer of `status` (with `Retry-After: retry_after`) as a generated call's error.
    fn answered(status: u16, retry_after: Option<&str>) -> progenitor_client::Error<()> {
        let mut answer = http::Response::builder().status(status);
        if let Some(after) = retry_after {
            answer = answer.header(RETRY_AFTER, after);
        }
        progenitor_client::Error::UnexpectedResponse(reqwest::Response::from(
            answer.body(Vec::<u8>::new()).unwrap(),
        ))
    }

    #[tokio::test]
    async fn resend_sends_again_only_on_transient_failures_within_attempts_and_deadline() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let quick = RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        };
        let sent = AtomicU32::new(0);
        // transient each time: max_attempts in all, the last failure returned
        let always = |status| {
            let sent = &sent;
            move || async move {
                sent.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(answered(status, None))
            }
        };
        let last = resend(&quick, |e| e, always(503)).await.unwrap_err();
        assert_eq!(last.status().map(|s| s.as_u16()), Some(503));
        assert_eq!(sent.swap(0, Ordering::SeqCst), 4);
        // not transient: sent once
        for status in [400, 401, 404, 409, 500] {
            resend(&quick, |e| e, always(status)).await.unwrap_err();
            assert_eq!(sent.swap(0, Ordering::SeqCst), 1, "{status}");
        }
        // a success after two transient failures
        let flaky = || {
            let n = sent.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(answered(429, Some("0")))
                } else {
                    Ok(n)
                }
            }
        };
        assert_eq!(resend(&quick, |e| e, flaky).await.unwrap(), 2);
        assert_eq!(sent.swap(0, Ordering::SeqCst), 3);
        // a Retry-After that would end past the deadline is not waited for
        let short = RetryPolicy {
            deadline: Duration::from_secs(2),
            ..quick.clone()
        };
        let later = || {
            sent.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(answered(503, Some("5"))) }
        };
        let started = Instant::now();
        resend(&short, |e| e, later).await.unwrap_err();
        assert_eq!(sent.swap(0, Ordering::SeqCst), 1);
        assert!(started.elapsed() < Duration::from_secs(1));
        // the caller's error type: the client's error found through `error_of`
        struct Wrapped(progenitor_client::Error<()>);
        let wrapped = || {
            sent.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(Wrapped(answered(502, None))) }
        };
        let _ = resend(&quick, |w: &Wrapped| &w.0, wrapped).await;
        assert_eq!(sent.swap(0, Ordering::SeqCst), 4);
    }

    #[test]
    fn a_client_honours_the_server_wait_capped() {
        use reqwest::StatusCode;
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let too_many = StatusCode::TOO_MANY_REQUESTS;
        let mut h = HeaderMap::new();
        // a reset an hour away (Rocket.Chat's epoch milliseconds): capped
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("1800003600000"),
        );
        assert_eq!(capped_server_wait(too_many, &h, now), Some(MAX_SERVER_WAIT));
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("1800000002000"),
        );
        assert_eq!(
            capped_server_wait(too_many, &h, now),
            Some(Duration::from_secs(2))
        );
        // `resend`'s delay (Rocket.Chat's `agent.status`) reads it too: a reset 2 s from now,
        // not the first backoff (at most 250 ms)
        let policy = RetryPolicy::default();
        let reset = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 2_000;
        let e = progenitor_client::Error::<()>::UnexpectedResponse(reqwest::Response::from(
            http::Response::builder()
                .status(429)
                .header("x-ratelimit-reset", reset.to_string())
                .body(Vec::<u8>::new())
                .unwrap(),
        ));
        let d = transient_delay(&policy, &e, 1).unwrap();
        assert!(
            d > Duration::from_millis(1_500) && d <= Duration::from_secs(2),
            "{d:?}"
        );
    }

    #[test]
    fn the_server_wait_is_retry_after_else_a_429s_rate_limit_reset() {
        use reqwest::StatusCode;
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut h = HeaderMap::new();
        let too_many = StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(server_wait(too_many, &h, now), None);
        // Rocket.Chat: epoch milliseconds
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("1800000042500"),
        );
        assert_eq!(
            server_wait(too_many, &h, now),
            Some(Duration::from_millis(42_500))
        );
        // only a 429's reset is a request to wait
        assert_eq!(server_wait(StatusCode::SERVICE_UNAVAILABLE, &h, now), None);
        // Retry-After first
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(server_wait(too_many, &h, now), Some(Duration::from_secs(3)));
        assert_eq!(
            server_wait(StatusCode::SERVICE_UNAVAILABLE, &h, now),
            Some(Duration::from_secs(3))
        );
        // epoch seconds, seconds from now, the past, junk
        assert_eq!(
            parse_rate_limit_reset(b"1800000010", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_rate_limit_reset(b"7", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_rate_limit_reset(b"1700000000000", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_rate_limit_reset(b"99999999999999999999999", now)
                .map(|d| d > Duration::from_secs(1 << 30)),
            Some(true)
        );
        for junk in [&b""[..], b"-5", b"soon", b"\xff", b"1e9"] {
            assert_eq!(parse_rate_limit_reset(junk, now), None, "{junk:?}");
        }
    }

    #[test]
    fn an_operation_scoped_limit_paces_each_operation_on_its_own() {
        let limit = RateLimit {
            requests: 2,
            per: Duration::from_secs(3600),
        };
        let scoped = Limiter::new(limit, RateLimitScope::Operation).unwrap();
        let a = scoped.bucket(Some("get_agent")).unwrap();
        let b = scoped.bucket(Some("set_agent")).unwrap();
        assert!(!Arc::ptr_eq(&a, &b), "another operation has its own pacer");
        assert!(
            Arc::ptr_eq(&a, &scoped.bucket(Some("get_agent")).unwrap()),
            "the same operation, the same pacer"
        );
        let shared = Limiter::new(limit, RateLimitScope::Client).unwrap();
        assert!(
            Arc::ptr_eq(
                &shared.bucket(Some("get_agent")).unwrap(),
                &shared.bucket(Some("set_agent")).unwrap()
            ),
            "one pacer for all"
        );
        assert!(Limiter::new(RateLimit::per_minute(0), RateLimitScope::Operation).is_none());
    }

    #[test]
    fn rate_limit_quota() {
        assert!(RateLimit::per_minute(500).pacer().is_some());
        assert!(RateLimit::per_minute(0).pacer().is_none());
        assert!(
            RateLimit {
                requests: 5,
                per: Duration::ZERO
            }
            .pacer()
            .is_none()
        );
    }

    #[test]
    fn a_client_paces_a_margin_under_the_declared_limit() {
        assert_eq!(RateLimit::per_minute(500).paced(), 485);
        let per_second = |requests| RateLimit {
            requests,
            per: Duration::from_secs(1),
        };
        assert_eq!(per_second(200).paced(), 194);
        assert_eq!(per_second(20).paced(), 19);
        assert_eq!(per_second(12).paced(), 11);
        assert_eq!(per_second(1).paced(), 1);
        assert_eq!(per_second(0).paced(), 0);
        assert_eq!(per_second(u32::MAX).paced(), 4_166_118_276);
    }
}
