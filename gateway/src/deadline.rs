//! Per-route deadlines. Every method of the descriptor set gets one at
//! start-up: a configured timeout for the method, else for its service,
//! else the default (`request_timeout_ms`) for unary methods and none for
//! streaming ones. The gateway sends it to the backend as `grpc-timeout`
//! (REST, and gRPC callers that bring no deadline) and caps a caller's
//! longer deadline at it, so one route's budget does not depend on what a
//! client asks for.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use http::HeaderValue;
use prost::Message as _;

/// Deadlines of every method, by gRPC path (`/pkg.Service/Method`).
#[derive(Debug)]
pub struct Deadlines {
    by_path: HashMap<String, Duration>,
    /// Server-streaming methods with a deadline.
    streams: std::collections::HashSet<String>,
}

/// A request extension: the answer is a server stream with a deadline, so
/// the proxy ends its body when the `grpc-timeout` it forwards expires.
#[derive(Clone, Copy, Debug)]
pub struct TimedStream;

impl Deadlines {
    /// Resolves `timeouts_ms` (keys `pkg.Service` or `pkg.Service/Method`,
    /// optionally with a leading `/`) against the methods of
    /// `descriptor_set`. A key naming no service or method, or a zero
    /// timeout, is a configuration error: a typo must not silently leave a
    /// route on the default.
    pub fn new(descriptor_set: &[u8], default: Duration, timeouts_ms: &BTreeMap<String, u64>) -> anyhow::Result<Self> {
        let set = prost_types::FileDescriptorSet::decode(descriptor_set)?;
        let mut configured: HashMap<&str, Duration> = HashMap::new();
        for (key, &ms) in timeouts_ms {
            if ms == 0 {
                anyhow::bail!("limits.route_timeouts_ms: {key:?} must be at least 1 ms");
            }
            configured.insert(key.trim_start_matches('/'), Duration::from_millis(ms));
        }
        let mut used = std::collections::HashSet::new();
        let mut by_path = HashMap::new();
        let mut streams = std::collections::HashSet::new();
        for file in &set.file {
            for service in &file.service {
                let service_name = format!("{}.{}", file.package(), service.name());
                let for_service = configured.get(service_name.as_str()).copied();
                if for_service.is_some() {
                    used.insert(service_name.clone());
                }
                for method in &service.method {
                    let method_name = format!("{service_name}/{}", method.name());
                    let for_method = configured.get(method_name.as_str()).copied();
                    if for_method.is_some() {
                        used.insert(method_name.clone());
                    }
                    let streaming = method.server_streaming() || method.client_streaming();
                    let timeout = for_method.or(for_service).or((!streaming).then_some(default));
                    if let Some(timeout) = timeout {
                        if method.server_streaming() {
                            streams.insert(format!("/{method_name}"));
                        }
                        by_path.insert(format!("/{method_name}"), timeout);
                    }
                }
            }
        }
        let unknown: Vec<&str> = configured.keys().copied().filter(|k| !used.contains(*k)).collect();
        if !unknown.is_empty() {
            anyhow::bail!(
                "limits.route_timeouts_ms: no such service or method: {} (use `pkg.Service` or `pkg.Service/Method`)",
                unknown.join(", ")
            );
        }
        Ok(Self { by_path, streams })
    }

    /// Whether `grpc_path` is a server stream with a deadline.
    pub fn is_timed_stream(&self, grpc_path: &str) -> bool {
        self.streams.contains(grpc_path)
    }

    /// The deadline of the method at `grpc_path`, if it has one.
    pub fn of(&self, grpc_path: &str) -> Option<Duration> {
        self.by_path.get(grpc_path).copied()
    }

    /// The `grpc-timeout` to send for a call of `grpc_path` whose caller
    /// sent `requested` (absent, or a value it wrote): the route's
    /// deadline when the caller has none or a longer one, else `None`
    /// (keep the caller's). A value that does not parse is replaced too.
    pub fn header_for(&self, grpc_path: &str, requested: Option<&HeaderValue>) -> Option<HeaderValue> {
        let limit = self.of(grpc_path)?;
        if let Some(requested) = requested.and_then(|v| parse_grpc_timeout(v.as_bytes()))
            && requested <= limit
        {
            return None;
        }
        HeaderValue::from_str(&format!("{}m", limit.as_millis())).ok()
    }
}

/// How long past a call's deadline the gateway waits for the backend's own
/// answer before answering DEADLINE_EXCEEDED itself (a backend that hangs).
pub const GRACE: Duration = Duration::from_millis(250);

/// The message of a call cut off by its deadline.
const EXCEEDED_MESSAGE: &str = "the call's deadline passed before the backend answered";

/// The status of a call cut off by its deadline.
pub fn exceeded() -> tonic::Status {
    tonic::Status::deadline_exceeded(EXCEEDED_MESSAGE)
}

/// `call`, unless `until` plus [`GRACE`] comes first (`None`): the backend
/// enforces the deadline it was sent; this answers for one that does not
/// answer at all.
pub async fn bounded<F: std::future::Future>(until: Option<tokio::time::Instant>, call: F) -> Option<F::Output> {
    match until {
        Some(until) => tokio::time::timeout_at(until + GRACE, call).await.ok(),
        None => Some(call.await),
    }
}

/// Whether `status` from a backend is its call's deadline (`until`)
/// expiring: tonic servers answer an expired `grpc-timeout` with CANCELLED
/// ("Timeout expired"), where gRPC clients expect DEADLINE_EXCEEDED. The
/// gateway's clock started before the backend's, so past `until` here.
pub fn cut_off(status: &tonic::Status, until: tokio::time::Instant) -> bool {
    status.code() == tonic::Code::Cancelled && tokio::time::Instant::now() >= until
}

/// A `grpc-timeout` value: at most 8 digits and a unit (H, M, S, m, u, n).
pub fn parse_grpc_timeout(value: &[u8]) -> Option<Duration> {
    let (unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let amount: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(amount * 3600),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    const BATCH: &str = "/bank.transfer.v1.TransferService/CreateTransfers";
    const BALANCE: &str = "/bank.transfer.v1.TransferService/GetBalance";
    const EXPORT: &str = "/bank.account.v1.AccountService/ExportStatement";
    const LOGIN: &str = "/bank.auth.v1.AuthService/Login";

    fn deadlines(pairs: &[(&str, u64)]) -> anyhow::Result<Deadlines> {
        let map = pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        Deadlines::new(bank_proto::FILE_DESCRIPTOR_SET, Duration::from_secs(15), &map)
    }

    #[test]
    fn a_method_beats_its_service_which_beats_the_default() {
        let d = deadlines(&[
            ("bank.transfer.v1.TransferService", 5_000),
            ("/bank.transfer.v1.TransferService/CreateTransfers", 60_000),
        ])
        .unwrap();
        assert_eq!(d.of(BATCH), Some(Duration::from_secs(60)));
        assert_eq!(d.of(BALANCE), Some(Duration::from_secs(5)));
        assert_eq!(d.of(LOGIN), Some(Duration::from_secs(15)));
        assert_eq!(d.of("/no.Such/Method"), None);
    }

    #[test]
    fn streams_have_no_deadline_unless_configured() {
        assert!(deadlines(&[]).unwrap().of(EXPORT).is_none(), "{EXPORT} must stream");
        let d = deadlines(&[("bank.account.v1.AccountService/ExportStatement", 120_000)]).unwrap();
        assert_eq!(d.of(EXPORT), Some(Duration::from_secs(120)));
    }

    #[test]
    fn unknown_names_and_zero_timeouts_are_refused() {
        let typo = deadlines(&[("bank.transfer.v1.TransferService/CreateTransfer5", 1)]).unwrap_err();
        assert!(typo.to_string().contains("CreateTransfer5"), "{typo}");
        assert!(deadlines(&[("bank.transfer.v1.TransferServ", 1)]).is_err());
        assert!(deadlines(&[(BALANCE, 0)]).is_err());
    }

    #[test]
    fn a_callers_shorter_deadline_is_kept_and_a_longer_one_capped() {
        let d = deadlines(&[(BATCH, 2_000)]).unwrap();
        let header = |v: &'static str| HeaderValue::from_static(v);
        assert_eq!(d.header_for(BATCH, None), Some(header("2000m")));
        assert_eq!(d.header_for(BATCH, Some(&header("1S"))), None);
        assert_eq!(d.header_for(BATCH, Some(&header("2000m"))), None);
        assert_eq!(d.header_for(BATCH, Some(&header("3S"))), Some(header("2000m")));
        assert_eq!(d.header_for(BATCH, Some(&header("1H"))), Some(header("2000m")));
        assert_eq!(d.header_for(BATCH, Some(&header("soon"))), Some(header("2000m")));
        // Streams without a configured deadline keep whatever the caller sent.
        assert_eq!(d.header_for(EXPORT, Some(&header("1H"))), None);
        assert_eq!(d.header_for(EXPORT, None), None);
    }

    #[test]
    fn grpc_timeout_values_parse_by_unit() {
        assert_eq!(parse_grpc_timeout(b"2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout(b"3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout(b"15S"), Some(Duration::from_secs(15)));
        assert_eq!(parse_grpc_timeout(b"250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout(b"7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout(b"9n"), Some(Duration::from_nanos(9)));
        for bad in [&b""[..], b"S", b"123456789S", b"12x", b"-1S", b"1.5S"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    /// The chart renders route names as quoted TOML keys; the dots in them
    /// must not become nested tables on the way into the config.
    #[test]
    fn route_timeouts_load_from_the_config_file() {
        let file = std::env::temp_dir().join(format!("gateway-config-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(
            &file,
            r#"
[tls]
ca = "/ca.crt"
cert = "/tls.crt"
key = "/tls.key"

[redis]
url = "redis://127.0.0.1:6379"

[limits.route_timeouts_ms]
"bank.account.v1.AccountService/ExportStatement" = 600000
"bank.transfer.v1.TransferService" = 20000
"#,
        )
        .unwrap();
        let config: crate::Config = bank_config::load(Some(&file)).unwrap();
        std::fs::remove_file(&file).unwrap();
        let deadlines = Deadlines::new(
            bank_proto::FILE_DESCRIPTOR_SET,
            Duration::from_millis(config.limits.request_timeout_ms),
            &config.limits.route_timeouts_ms,
        )
        .unwrap();
        assert_eq!(
            deadlines.of("/bank.account.v1.AccountService/ExportStatement"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            deadlines.of("/bank.transfer.v1.TransferService/GetBalance"),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            deadlines.of("/bank.auth.v1.AuthService/Login"),
            Some(Duration::from_secs(15))
        );
    }
}
