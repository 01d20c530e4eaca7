//! The financing options catalogue: admins create and change options;
//! members list and read the active ones.

use bank_authn::{caller, require_admin};
use bank_proto::bank::common::v1::Money;
use bank_proto::bank::finance::v1 as pb;
use bank_server::FieldViolations;
use tonic::{Request, Status};
use uuid::Uuid;

use super::paging::{LIST_OPTIONS_PAGE_SIZE_MAX, Page};
use super::{AppState, aborted, is_admin, parse_uuid, parsed, store_error};
use crate::domain::{
    AMOUNT_MAX_MINOR, Currency, OPTION_DESCRIPTION_MAX_CHARS, OPTION_NAME_MAX_CHARS, RATE_MAX_BPS, RequestId,
    TERM_MAX_MONTHS, bounded_text, product_type,
};
use crate::errors;
use crate::idempotency::{Fingerprint, HashField as _, Rpc};
use crate::rows::{OptionRow, now};
use crate::store::{Created, IdempotencyKey, OptionCursor, OptionFilter};

/// Fields UpdateFinancingOption may change (an empty mask means all).
const UPDATABLE: [&str; 8] = [
    "name",
    "description",
    "annual_rate_bps",
    "min_term_months",
    "max_term_months",
    "min_amount",
    "max_amount",
    "active",
];
/// Attempts of an update that lost a race with another update.
const UPDATE_ATTEMPTS_MAX: usize = 3;
const PREFIX: &str = "financing_option";

fn field(name: &str) -> String {
    format!("{PREFIX}.{name}")
}

/// An amount field of an option: positive, at most the maximum, in the
/// option's currency.
fn parse_limit(violations: &mut FieldViolations, name: &str, value: Option<&Money>, currency: &str) -> i64 {
    let Some(money) = value else {
        violations.add(&field(name), "is required");
        return 0;
    };
    if !(1..=AMOUNT_MAX_MINOR).contains(&money.amount_minor) {
        violations.add(&field(name), format!("amount_minor must be 1..{AMOUNT_MAX_MINOR}"));
    }
    if money.currency != currency {
        violations.add(&field(name), "currency must be the option's currency");
    }
    money.amount_minor
}

/// The cross-field rules of an option (ranges not empty or inverted).
fn check_ranges(violations: &mut FieldViolations, o: &OptionRow) {
    if !(0..=RATE_MAX_BPS).contains(&o.annual_rate_bps) {
        violations.add(&field("annual_rate_bps"), format!("must be 0..{RATE_MAX_BPS}"));
    }
    if !(1..=TERM_MAX_MONTHS).contains(&o.min_term_months) {
        violations.add(&field("min_term_months"), format!("must be 1..{TERM_MAX_MONTHS}"));
    }
    if !(o.min_term_months..=TERM_MAX_MONTHS).contains(&o.max_term_months) {
        violations.add(
            &field("max_term_months"),
            format!("must be min_term_months..{TERM_MAX_MONTHS}"),
        );
    }
    if o.min_amount_minor > 0 && o.max_amount_minor > 0 && o.max_amount_minor < o.min_amount_minor {
        violations.add(&field("max_amount"), "must not be less than min_amount");
    }
}

impl AppState {
    pub(super) async fn create_option(
        &self,
        request: Request<pb::CreateFinancingOptionRequest>,
    ) -> Result<pb::CreateFinancingOptionResponse, Status> {
        let admin = require_admin(&request)?.user_id;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let request_id = violations.check("request_id", RequestId::parse(&req.request_id));
        let Some(o) = req.financing_option else {
            violations.add(PREFIX, "is required");
            violations.into_result()?;
            return Err(Status::invalid_argument("financing_option is required"));
        };
        let name = violations.check(&field("name"), bounded_text(&o.name, 1, OPTION_NAME_MAX_CHARS));
        let description = violations.check(
            &field("description"),
            bounded_text(&o.description, 0, OPTION_DESCRIPTION_MAX_CHARS),
        );
        let kind = violations.check(&field("product_type"), product_type(o.product_type));
        let currency = violations.check(&field("currency"), Currency::parse(&o.currency));
        let currency_code = currency.as_ref().map_or(o.currency.as_str(), Currency::as_str);
        let min_amount = parse_limit(&mut violations, "min_amount", o.min_amount.as_ref(), currency_code);
        let max_amount = parse_limit(&mut violations, "max_amount", o.max_amount.as_ref(), currency_code);
        let at = now();
        let row = OptionRow {
            id: Uuid::new_v4(),
            name: name.clone().unwrap_or_default(),
            description: description.clone().unwrap_or_default(),
            product_type: kind.unwrap_or(0),
            currency: currency_code.to_owned(),
            annual_rate_bps: o.annual_rate_bps,
            min_term_months: o.min_term_months,
            max_term_months: o.max_term_months,
            min_amount_minor: min_amount,
            max_amount_minor: max_amount,
            active: true,
            created_at: at,
            updated_at: at,
        };
        check_ranges(&mut violations, &row);
        violations.into_result()?;
        let request_id = parsed(request_id, "create-option")?;
        let fingerprint = Fingerprint::new()
            .field("name", &row.name)
            .field("description", &row.description)
            .field("product_type", row.product_type.to_string())
            .field("currency", &row.currency)
            .field("annual_rate_bps", row.annual_rate_bps.to_string())
            .field("min_term_months", row.min_term_months.to_string())
            .field("max_term_months", row.max_term_months.to_string())
            .field("min_amount", row.min_amount_minor.to_string())
            .field("max_amount", row.max_amount_minor.to_string());
        let key = IdempotencyKey {
            caller: admin,
            rpc: Rpc::CreateFinancingOption,
            request_id: request_id.as_str(),
        };
        match self
            .store
            .create_option(key, &fingerprint, row)
            .await
            .map_err(|e| store_error("creating financing option", e))?
        {
            Created::New(row) => {
                tracing::info!(admin_id = %admin, option_id = %row.id, "financing option created");
                Ok(pb::CreateFinancingOptionResponse {
                    financing_option: Some(row.to_proto()),
                })
            }
            Created::Existing(record) => {
                if let Some(field) = fingerprint.first_mismatch(&record.fingerprint) {
                    return Err(errors::key_reused(&field));
                }
                record.replay()
            }
        }
    }

    pub(super) async fn update_option(
        &self,
        request: Request<pb::UpdateFinancingOptionRequest>,
    ) -> Result<pb::UpdateFinancingOptionResponse, Status> {
        let admin = require_admin(&request)?.user_id;
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let Some(o) = req.financing_option else {
            violations.add(PREFIX, "is required");
            violations.into_result()?;
            return Err(Status::invalid_argument("financing_option is required"));
        };
        let id = parse_uuid(&mut violations, &field("option_id"), &o.option_id);
        let paths: Vec<String> = req.update_mask.map(|m| m.paths).unwrap_or_default();
        for path in &paths {
            match path.as_str() {
                p if UPDATABLE.contains(&p) => {}
                "product_type" | "currency" => violations.add("update_mask", format!("{path} is fixed at creation")),
                _ => violations.add("update_mask", format!("{path} is not a field that can be updated")),
            }
        }
        violations.into_result()?;
        let id = parsed(id, "update-option")?;
        let wants = |name: &str| paths.is_empty() || paths.iter().any(|p| p == name);
        for _ in 0..UPDATE_ATTEMPTS_MAX {
            let current = self
                .store
                .option(id)
                .await
                .map_err(|e| store_error("reading financing option", e))?
                .ok_or_else(errors::option_not_found)?;
            let mut next = current.clone();
            let mut violations = FieldViolations::new();
            if wants("name") {
                next.name = violations
                    .check(&field("name"), bounded_text(&o.name, 1, OPTION_NAME_MAX_CHARS))
                    .unwrap_or_default();
            }
            if wants("description") {
                next.description = violations
                    .check(
                        &field("description"),
                        bounded_text(&o.description, 0, OPTION_DESCRIPTION_MAX_CHARS),
                    )
                    .unwrap_or_default();
            }
            if wants("annual_rate_bps") {
                next.annual_rate_bps = o.annual_rate_bps;
            }
            if wants("min_term_months") {
                next.min_term_months = o.min_term_months;
            }
            if wants("max_term_months") {
                next.max_term_months = o.max_term_months;
            }
            if wants("min_amount") {
                next.min_amount_minor =
                    parse_limit(&mut violations, "min_amount", o.min_amount.as_ref(), &current.currency);
            }
            if wants("max_amount") {
                next.max_amount_minor =
                    parse_limit(&mut violations, "max_amount", o.max_amount.as_ref(), &current.currency);
            }
            if wants("active") {
                next.active = o.active;
            }
            check_ranges(&mut violations, &next);
            violations.into_result()?;
            if next == current {
                return Ok(pb::UpdateFinancingOptionResponse {
                    financing_option: Some(current.to_proto()),
                });
            }
            next.updated_at = now().max(current.updated_at);
            if self
                .store
                .update_option(&next, current.updated_at)
                .await
                .map_err(|e| store_error("updating financing option", e))?
            {
                tracing::info!(admin_id = %admin, option_id = %id, "financing option updated");
                return Ok(pb::UpdateFinancingOptionResponse {
                    financing_option: Some(next.to_proto()),
                });
            }
        }
        Err(aborted())
    }

    pub(super) async fn list_options(
        &self,
        request: Request<pb::ListFinancingOptionsRequest>,
    ) -> Result<pb::ListFinancingOptionsResponse, Status> {
        let admin = is_admin(caller(&request)?);
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let kind = if req.product_type == 0 {
            None
        } else {
            violations.check("product_type", product_type(req.product_type))
        };
        let currency = if req.currency.is_empty() {
            None
        } else {
            violations.check("currency", Currency::parse(&req.currency))
        };
        let include_inactive = admin && req.include_inactive;
        let page: Page<OptionCursor> = Page::parse(
            &mut violations,
            req.page_size,
            &req.page_token,
            LIST_OPTIONS_PAGE_SIZE_MAX,
            &format!("{}|{}|{include_inactive}", req.product_type, req.currency),
        );
        violations.into_result()?;
        let filter = OptionFilter {
            product_type: kind,
            currency: currency.map(|c| c.as_str().to_owned()),
            include_inactive,
        };
        let mut rows = self
            .store
            .options(&filter, page.after.clone(), page.fetch())
            .await
            .map_err(|e| store_error("listing financing options", e))?;
        let next_page_token = page.finish(&mut rows, |o| (o.product_type, o.name.clone(), o.id));
        Ok(pb::ListFinancingOptionsResponse {
            financing_options: rows.iter().map(OptionRow::to_proto).collect(),
            next_page_token,
        })
    }

    pub(super) async fn get_option(
        &self,
        request: Request<pb::GetFinancingOptionRequest>,
    ) -> Result<pb::GetFinancingOptionResponse, Status> {
        let admin = is_admin(caller(&request)?);
        let req = request.into_inner();
        let mut violations = FieldViolations::new();
        let id = parse_uuid(&mut violations, "option_id", &req.option_id);
        violations.into_result()?;
        let option = self
            .store
            .option(parsed(id, "get-option")?)
            .await
            .map_err(|e| store_error("reading financing option", e))?
            .filter(|o| admin || o.active)
            .ok_or_else(errors::option_not_found)?;
        Ok(pb::GetFinancingOptionResponse {
            financing_option: Some(option.to_proto()),
        })
    }
}
