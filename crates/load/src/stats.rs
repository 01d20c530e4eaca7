//! What one scenario measured: counts, latencies, errors by gRPC code (or
//! HTTP status) and the CPU it cost.

use std::collections::BTreeMap;
use std::time::Duration;

use tonic::Code;

use crate::cpu::Usage;

/// The canonical gRPC name of `code` (`FAILED_PRECONDITION`).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Latency percentiles of successful and failed calls alike.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest call.
    pub max: Duration,
}

impl Latency {
    /// Percentiles of `micros` (sorted in place).
    pub fn of(micros: &mut [u32]) -> Self {
        if micros.is_empty() {
            return Self::default();
        }
        micros.sort_unstable();
        let at = |q: f64| {
            // Nearest rank: the smallest value with at least q of the samples at or below it.
            let rank = (q * micros.len() as f64).ceil() as usize;
            Duration::from_micros(u64::from(micros[rank.clamp(1, micros.len()) - 1]))
        };
        Self {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// The measured part of one scenario.
#[derive(Debug, Clone, Default)]
pub struct ScenarioResult {
    /// `transfer`, `deposit`, `batch`, `balance`, `rest-balance`, ...
    pub name: &'static str,
    /// Concurrent tasks.
    pub concurrency: usize,
    /// HTTP/2 connections they shared (REST: HTTP/1.1 connections the
    /// pool opened).
    pub channels: usize,
    /// Calls that returned OK.
    pub ok_calls: u64,
    /// Calls that returned an error.
    pub failed_calls: u64,
    /// Transfers posted (batch items, or one per OK money-moving call).
    pub posted: u64,
    /// Measured interval.
    pub elapsed: Duration,
    /// Call latencies.
    pub latency: Latency,
    /// Errors by gRPC code: whole calls, and `item:<CODE>` for batch items;
    /// REST calls by `http-<status>:<CODE>` (the google.rpc.Status body),
    /// `client:<what>` for transport failures, `status:<TransferStatus>`
    /// for a transfer answered 200 but not posted.
    pub errors: BTreeMap<String, u64>,
    /// CPU used in the interval.
    pub cpu: Usage,
    /// Busy cores of the machine in the second before measuring (the
    /// highest, when measured in slices).
    pub busy_before: f64,
    /// Measured intervals it was split into (2 when compared in a group).
    pub slices: usize,
    /// TCP connections a REST client's pool opened while measured (none
    /// when it kept them alive); `None` for gRPC channels.
    pub new_connections: Option<u64>,
    /// The same calls at light load (groups only).
    pub light: Option<LightLoad>,
}

/// Latency of a scenario's calls at light load: no queueing in the mesh or
/// on the CPU, so a difference between routes is the route's own cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct LightLoad {
    /// Concurrent tasks.
    pub concurrency: usize,
    /// Calls that succeeded.
    pub ok_calls: u64,
    /// Calls that failed.
    pub failed_calls: u64,
    /// Their latencies.
    pub latency: Latency,
}

impl ScenarioResult {
    /// Successful calls per second.
    pub fn ops_per_sec(&self) -> f64 {
        per_sec(self.ok_calls, self.elapsed)
    }

    /// Posted transfers per second.
    pub fn posted_per_sec(&self) -> f64 {
        per_sec(self.posted, self.elapsed)
    }

    /// Errors as `CODE=n, ...`, or `0`.
    pub fn errors_text(&self) -> String {
        if self.errors.is_empty() {
            return "0".to_owned();
        }
        self.errors
            .iter()
            .map(|(code, n)| format!("{code}={n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// CPU microseconds per unit of work (per call, or per posted transfer
    /// when `per_transfer`) spent by `cpu_secs`.
    pub fn micros_per(&self, cpu_secs: f64, per_transfer: bool) -> f64 {
        let units = if per_transfer { self.posted } else { self.ok_calls };
        if units == 0 { 0.0 } else { cpu_secs * 1e6 / units as f64 }
    }
}

/// `count / elapsed`.
pub fn per_sec(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut samples: Vec<u32> = (1..=100).rev().collect();
        let latency = Latency::of(&mut samples);
        assert_eq!(latency.p50, Duration::from_micros(50));
        assert_eq!(latency.p99, Duration::from_micros(99));
        assert_eq!(latency.max, Duration::from_micros(100));
        assert_eq!(Latency::of(&mut []).max, Duration::ZERO);
        assert_eq!(Latency::of(&mut [7]).p50, Duration::from_micros(7));
    }

    #[test]
    fn rates() {
        let result = ScenarioResult {
            ok_calls: 10,
            posted: 10_000,
            elapsed: Duration::from_secs(2),
            ..ScenarioResult::default()
        };
        assert!((result.ops_per_sec() - 5.0).abs() < 1e-9);
        assert!((result.posted_per_sec() - 5_000.0).abs() < 1e-9);
        assert!((result.micros_per(1.0, true) - 100.0).abs() < 1e-9);
        assert_eq!(result.errors_text(), "0");
    }
}
