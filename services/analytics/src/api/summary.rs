//! GetSummary: the admin's overview of a date range, read from one
//! database snapshot so that its numbers agree with each other and with
//! `data_as_of`.

use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::common::v1::Money;
use bank_server::FieldViolations;
use tonic::{Request, Status};

use super::{AppState, calendar_date, parse_date, parsed, store_error};
use crate::events::timestamp;
use crate::store::SummaryRange;

/// Longest range, in days after `start_date`.
pub const SUMMARY_DAYS_MAX: i64 = 366;
/// Rows of the per-user lists when the request says 0.
pub const TOP_USERS_DEFAULT: i32 = 100;
/// Most rows of the per-user lists.
pub const TOP_USERS_MAX: i32 = 1_000;

impl AppState {
    pub(super) async fn get_summary(
        &self,
        request: Request<pb::GetSummaryRequest>,
    ) -> Result<pb::GetSummaryResponse, Status> {
        bank_authn::require_admin(&request)?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let start = violations.check("start_date", parse_date(req.start_date.as_ref()));
        let end = violations.check("end_date", parse_date(req.end_date.as_ref()));
        if let (Some(start), Some(end)) = (start, end) {
            if end < start {
                violations.add("end_date", "must not be before start_date");
            } else if (end - start).num_days() > SUMMARY_DAYS_MAX {
                violations.add(
                    "end_date",
                    format!("must be at most {SUMMARY_DAYS_MAX} days after start_date"),
                );
            }
        }
        let top_users = match req.top_users_limit {
            0 => TOP_USERS_DEFAULT,
            n if (1..=TOP_USERS_MAX).contains(&n) => n,
            _ => {
                violations.add("top_users_limit", format!("must be between 0 and {TOP_USERS_MAX}"));
                TOP_USERS_DEFAULT
            }
        };
        violations.into_result()?;
        let range = SummaryRange {
            start: parsed(start, "summary")?,
            end: parsed(end, "summary")?,
            top_users: i64::from(top_users),
        };
        let data = self
            .store
            .summary(range)
            .await
            .map_err(|e| store_error("reading the summary", e))?;
        Ok(pb::GetSummaryResponse {
            total_users: data.total_users,
            new_users: data.new_users,
            total_logins: data.total_logins,
            failed_logins: data.failed_logins,
            logins_per_user: data
                .logins_per_user
                .into_iter()
                .map(|row| pb::UserLogins {
                    user_id: row.user_id.to_string(),
                    login_count: row.logins,
                    failed_login_count: row.failed,
                    last_login_time: row.last_login_at.map(timestamp),
                })
                .collect(),
            active_users_by_day: data
                .active_users_by_day
                .into_iter()
                .map(|row| pb::DailyCount {
                    date: Some(calendar_date(row.day)),
                    count: row.count,
                })
                .collect(),
            transfers_by_day: data
                .transfers_by_day
                .into_iter()
                .map(|row| pb::DailyTransferVolume {
                    date: Some(calendar_date(row.day)),
                    currency: row.currency.clone(),
                    count: row.count,
                    volume: Some(Money {
                        amount_minor: row.volume,
                        currency: row.currency,
                    }),
                })
                .collect(),
            declines_by_reason: data
                .declines_by_reason
                .into_iter()
                .map(|row| pb::DeclineCount {
                    reason: row.code,
                    count: row.count,
                })
                .collect(),
            applications_by_status: data
                .applications_by_status
                .into_iter()
                .map(|row| pb::ApplicationStatusCount {
                    status: row.code,
                    count: row.count,
                })
                .collect(),
            option_selections_per_user: data
                .option_selections
                .into_iter()
                .map(|row| pb::OptionSelectionCount {
                    user_id: row.user_id.to_string(),
                    option_id: row.option_id.to_string(),
                    product_type: row.product_type,
                    selection_count: row.count,
                })
                .collect(),
            data_as_of: data.data_as_of.map(timestamp),
        })
    }
}
