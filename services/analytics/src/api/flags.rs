//! ListFlaggedTransfers and ReviewFlaggedTransfer: the admins' work queue
//! of fraud flags.

use bank_proto::bank::analytics::v1 as pb;
use bank_proto::bank::common::v1::Money;
use bank_server::{FieldViolations, failed_precondition, not_found};
use uuid::Uuid;

use tonic::{Request, Status};

use super::paging::{LIST_FLAGS_PAGE_SIZE_DEFAULT, LIST_FLAGS_PAGE_SIZE_MAX, Page};
use super::{AppState, parsed, store_error};
use crate::events::{from_timestamp, timestamp};
use crate::store::{FlagFilter, FlagRow, Review, ReviewError};

/// Longest review note, in characters.
pub const REVIEW_NOTE_MAX_CHARS: usize = 1_000;
/// Most values in one repeated filter field.
pub const FLAG_FILTER_VALUES_MAX: usize = 16;

fn flag_to_proto(row: FlagRow) -> pb::FlaggedTransfer {
    pb::FlaggedTransfer {
        flag_id: row.flag_id.to_string(),
        transfer_id: row.transfer_id.to_string(),
        rule: i32::from(row.rule),
        detail: row.detail,
        debit_account_id: row.debit_account_id.to_string(),
        credit_account_id: row.credit_account_id.to_string(),
        amount: Some(Money {
            amount_minor: row.amount_minor,
            currency: row.currency,
        }),
        transfer_time: Some(timestamp(row.transfer_time)),
        flag_time: Some(timestamp(row.flag_time)),
        review_status: i32::from(row.review_status),
        review_outcome: i32::from(row.review_outcome),
        review_note: row.review_note,
        reviewer_user_id: row.reviewer_user_id.map(|u| u.to_string()).unwrap_or_default(),
        review_time: row.review_time.map(timestamp),
    }
}

/// Distinct enum values of a filter, each valid per `valid`.
fn enum_filter(violations: &mut FieldViolations, field: &str, values: &[i32], valid: impl Fn(i32) -> bool) -> Vec<i16> {
    if values.len() > FLAG_FILTER_VALUES_MAX {
        violations.add(field, format!("must have at most {FLAG_FILTER_VALUES_MAX} values"));
        return Vec::new();
    }
    let mut out: Vec<i16> = Vec::new();
    for &value in values {
        match i16::try_from(value).ok().filter(|_| valid(value)) {
            Some(v) => {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            None => violations.add(field, format!("{value} is not a valid value")),
        }
    }
    out.sort_unstable();
    out
}

/// A review note: 1..=1,000 characters, not blank; line breaks and tabs
/// are fine, other control characters are not.
fn parse_note(note: &str) -> Result<String, String> {
    if note.trim().is_empty() {
        return Err("is required".to_owned());
    }
    if note.chars().count() > REVIEW_NOTE_MAX_CHARS {
        return Err(format!("must be at most {REVIEW_NOTE_MAX_CHARS} characters"));
    }
    if note.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(note.to_owned())
}

impl AppState {
    pub(super) async fn list_flagged_transfers(
        &self,
        request: Request<pb::ListFlaggedTransfersRequest>,
    ) -> Result<pb::ListFlaggedTransfersResponse, Status> {
        bank_authn::require_admin(&request)?;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let statuses = enum_filter(&mut violations, "review_statuses", &req.review_statuses, |v| {
            pb::ReviewStatus::try_from(v).is_ok_and(|s| s != pb::ReviewStatus::Unspecified)
        });
        let rules = enum_filter(&mut violations, "rules", &req.rules, |v| {
            pb::FraudRule::try_from(v).is_ok_and(|r| r != pb::FraudRule::Unspecified)
        });
        let account = if req.account_id.is_empty() {
            None
        } else {
            violations.check(
                "account_id",
                Uuid::parse_str(&req.account_id).map_err(|_| "must be a UUID"),
            )
        };
        let start = req
            .start_time
            .as_ref()
            .and_then(|t| violations.check("start_time", from_timestamp(t).ok_or("is not a valid timestamp")));
        let end = req
            .end_time
            .as_ref()
            .and_then(|t| violations.check("end_time", from_timestamp(t).ok_or("is not a valid timestamp")));
        if let (Some(start), Some(end)) = (start, end)
            && start > end
        {
            violations.add("start_time", "must not be after end_time");
        }
        let filter = FlagFilter {
            statuses,
            rules,
            account,
            start,
            end,
        };
        let canonical = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}",
            filter.statuses,
            filter.rules,
            filter.account,
            filter.start.map(|t| t.timestamp_micros()),
            filter.end.map(|t| t.timestamp_micros())
        );
        let page = Page::parse(
            &mut violations,
            req.page_size,
            &req.page_token,
            (LIST_FLAGS_PAGE_SIZE_DEFAULT, LIST_FLAGS_PAGE_SIZE_MAX),
            &canonical,
        );
        violations.into_result()?;
        let mut rows = self
            .store
            .flags(&filter, page.after, page.fetch())
            .await
            .map_err(|e| store_error("listing flags", e))?;
        let next_page_token = page.finish(&mut rows, |row| (row.flag_time, row.flag_id));
        Ok(pb::ListFlaggedTransfersResponse {
            flagged_transfers: rows.into_iter().map(flag_to_proto).collect(),
            next_page_token,
        })
    }

    pub(super) async fn review_flagged_transfer(
        &self,
        request: Request<pb::ReviewFlaggedTransferRequest>,
    ) -> Result<pb::ReviewFlaggedTransferResponse, Status> {
        let reviewer = bank_authn::require_admin(&request)?.user_id;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let flag_id = if req.flag_id.is_empty() {
            violations.add("flag_id", "is required");
            None
        } else {
            violations.check("flag_id", Uuid::parse_str(&req.flag_id).map_err(|_| "must be a UUID"))
        };
        let outcome = violations.check(
            "outcome",
            pb::ReviewOutcome::try_from(req.outcome)
                .ok()
                .filter(|o| *o != pb::ReviewOutcome::Unspecified)
                .and_then(|o| i16::try_from(o as i32).ok())
                .ok_or("must be FALSE_POSITIVE or CONFIRMED_FRAUD"),
        );
        let note = violations.check("note", parse_note(&req.note));
        violations.into_result()?;
        let review = Review {
            flag_id: parsed(flag_id, "review")?,
            outcome: parsed(outcome, "review")?,
            note: parsed(note, "review")?,
            reviewer,
        };
        match self.store.review(&review).await {
            Ok(row) => {
                tracing::info!(flag_id = %row.flag_id, reviewer_user_id = %reviewer, outcome = row.review_outcome, "flag reviewed");
                Ok(pb::ReviewFlaggedTransferResponse {
                    flagged_transfer: Some(flag_to_proto(row)),
                })
            }
            Err(ReviewError::NotFound) => Err(not_found("FLAG_NOT_FOUND", "flag not found")),
            Err(ReviewError::AlreadyReviewed(row)) => Err(failed_precondition(
                "FLAG_ALREADY_REVIEWED",
                "the flag was already reviewed with a different outcome or note",
                vec![("flag_id".to_owned(), row.flag_id.to_string())],
            )),
            Err(ReviewError::Store(e)) => Err(store_error("reviewing a flag", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_bounded_and_clean() {
        assert!(parse_note("looks fine\nchecked with the member").is_ok());
        assert!(parse_note("   ").is_err());
        assert!(parse_note(&"x".repeat(REVIEW_NOTE_MAX_CHARS)).is_ok());
        assert!(parse_note(&"x".repeat(REVIEW_NOTE_MAX_CHARS + 1)).is_err());
        assert!(parse_note("bell\u{7}").is_err());
    }

    #[test]
    fn enum_filters_refuse_unknown_and_unspecified_values() {
        let mut violations = FieldViolations::new();
        let valid = |v: i32| (1..=3).contains(&v);
        assert_eq!(enum_filter(&mut violations, "rules", &[3, 1, 3], valid), vec![1, 3]);
        assert!(violations.is_empty());
        enum_filter(&mut violations, "rules", &[0], valid);
        assert!(!violations.is_empty());
    }
}
