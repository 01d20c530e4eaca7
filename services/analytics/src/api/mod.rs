//! The gRPC handlers of `bank.analytics.v1.AnalyticsService`: check who
//! may call, parse the wire input (every violation reported at once),
//! read the store, answer. Handlers log ids, never payload contents.

mod flags;
mod paging;
mod spending;
mod summary;
mod watch;

use std::sync::Arc;

use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::analytics::v1::analytics_service_server::AnalyticsService;
use bank_proto::bank::common::v1::{CalendarDate, YearMonth};
use bank_server::{internal, unavailable};
use chrono::{Datelike, NaiveDate};
use tokio::sync::{Semaphore, watch as stop_signal};
use tonic::{Request, Response, Status};

use crate::feed::Feed;
use crate::store::{Store, StoreError};

pub use flags::{FLAG_FILTER_VALUES_MAX, REVIEW_NOTE_MAX_CHARS};
pub use paging::{LIST_FLAGS_PAGE_SIZE_DEFAULT, LIST_FLAGS_PAGE_SIZE_MAX};
pub use spending::SPENDING_MONTHS_MAX;
pub use summary::{SUMMARY_DAYS_MAX, TOP_USERS_DEFAULT, TOP_USERS_MAX};
pub use watch::{WATCH_BUFFER_MESSAGES, WATCH_EVENT_TYPES_MAX, WATCH_HEARTBEAT_SECS, WATCH_REPLAY_MAX, WATCHERS_MAX};

/// Earliest year a date or month may name.
const YEAR_MIN: i32 = 1970;
/// Latest year a date or month may name.
const YEAR_MAX: i32 = 9999;

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Events as the consumer applies them.
    pub feed: Feed,
    /// Turns true when the server shuts down (ends WatchEvents streams).
    pub stop: stop_signal::Receiver<bool>,
    /// Open WatchEvents streams.
    pub watchers: Arc<Semaphore>,
}

/// The public service.
#[derive(Clone, Debug)]
pub struct AnalyticsApi {
    state: Arc<AppState>,
}

impl AnalyticsApi {
    /// Handlers over `state`.
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

fn store_error(context: &str, error: StoreError) -> Status {
    match error {
        StoreError::Unavailable(e) => unavailable(context, e),
        other => internal(context, other),
    }
}

/// Turns "every value is `Some` after validation" into values, or an
/// internal error if validation let a `None` through.
fn parsed<T>(value: Option<T>, context: &str) -> Result<T, Status> {
    value.ok_or_else(|| internal(context, "validated value missing"))
}

fn year_in_range(year: i32) -> Result<(), String> {
    if (YEAR_MIN..=YEAR_MAX).contains(&year) {
        Ok(())
    } else {
        Err(format!("year must be {YEAR_MIN}..{YEAR_MAX}"))
    }
}

/// A required calendar date.
fn parse_date(value: Option<&CalendarDate>) -> Result<NaiveDate, String> {
    let date = value.ok_or("is required")?;
    year_in_range(date.year)?;
    let month = u32::try_from(date.month).map_err(|_| "month must be 1..12")?;
    let day = u32::try_from(date.day).map_err(|_| "day is not valid for the month")?;
    if !(1..=12).contains(&month) {
        return Err("month must be 1..12".to_owned());
    }
    NaiveDate::from_ymd_opt(date.year, month, day).ok_or_else(|| "day is not valid for the month".to_owned())
}

/// A month, as its first day.
fn parse_month(value: &YearMonth) -> Result<NaiveDate, String> {
    year_in_range(value.year)?;
    u32::try_from(value.month)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .and_then(|month| NaiveDate::from_ymd_opt(value.year, month, 1))
        .ok_or_else(|| "month must be 1..12".to_owned())
}

fn calendar_date(day: NaiveDate) -> CalendarDate {
    CalendarDate {
        year: day.year(),
        month: i32::try_from(day.month()).unwrap_or(0),
        day: i32::try_from(day.day()).unwrap_or(0),
    }
}

fn year_month(first_day: NaiveDate) -> YearMonth {
    YearMonth {
        year: first_day.year(),
        month: i32::try_from(first_day.month()).unwrap_or(0),
    }
}

#[tonic::async_trait]
impl AnalyticsService for AnalyticsApi {
    async fn get_summary(
        &self,
        request: Request<pb::GetSummaryRequest>,
    ) -> Result<Response<pb::GetSummaryResponse>, Status> {
        self.state.get_summary(request).await.map(Response::new)
    }

    async fn list_flagged_transfers(
        &self,
        request: Request<pb::ListFlaggedTransfersRequest>,
    ) -> Result<Response<pb::ListFlaggedTransfersResponse>, Status> {
        self.state.list_flagged_transfers(request).await.map(Response::new)
    }

    async fn review_flagged_transfer(
        &self,
        request: Request<pb::ReviewFlaggedTransferRequest>,
    ) -> Result<Response<pb::ReviewFlaggedTransferResponse>, Status> {
        self.state.review_flagged_transfer(request).await.map(Response::new)
    }

    async fn get_my_spending(
        &self,
        request: Request<pb::GetMySpendingRequest>,
    ) -> Result<Response<pb::GetMySpendingResponse>, Status> {
        self.state.get_my_spending(request).await.map(Response::new)
    }

    type WatchEventsStream = watch::WatchStream;

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        self.state.watch_events(request).await.map(Response::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_months_are_checked() {
        let date = |year, month, day| CalendarDate { year, month, day };
        assert!(parse_date(Some(&date(2024, 2, 29))).is_ok());
        assert!(parse_date(Some(&date(2023, 2, 29))).is_err());
        assert!(parse_date(Some(&date(1969, 12, 31))).is_err());
        assert!(parse_date(Some(&date(2024, 13, 1))).is_err());
        assert!(parse_date(Some(&date(2024, -1, 1))).is_err());
        assert!(parse_date(None).is_err());
        assert!(parse_month(&YearMonth { year: 2024, month: 12 }).is_ok());
        assert!(parse_month(&YearMonth { year: 2024, month: 0 }).is_err());
        assert!(parse_month(&YearMonth { year: 10_000, month: 1 }).is_err());
    }
}
