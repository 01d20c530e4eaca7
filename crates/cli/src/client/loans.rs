//! Loans: applying, financing options, and an admin's decisions.

use bank_client::finance;
use clap::ValueEnum;
use serde_json::json;

use super::member::{applications_json, my_account};
use super::output::{self, Table, json_list, json_of};
use super::{Context, Failure};

/// Largest page asked for when listing.
const PAGE_SIZE: i32 = 100;

/// Kinds of loan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Product {
    Personal,
    Auto,
    Mortgage,
    Business,
    Student,
}

impl Product {
    fn proto(self) -> finance::ProductType {
        match self {
            Self::Personal => finance::ProductType::Personal,
            Self::Auto => finance::ProductType::Auto,
            Self::Mortgage => finance::ProductType::Mortgage,
            Self::Business => finance::ProductType::Business,
            Self::Student => finance::ProductType::Student,
        }
    }
}

/// An admin's decision on an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Verdict {
    Approve,
    Reject,
    RequestInfo,
}

/// Application statuses to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    Submitted,
    MoreInfoRequested,
    Approved,
    Rejected,
    Withdrawn,
}

impl StatusFilter {
    fn proto(self) -> finance::ApplicationStatus {
        match self {
            Self::Submitted => finance::ApplicationStatus::Submitted,
            Self::MoreInfoRequested => finance::ApplicationStatus::MoreInfoRequested,
            Self::Approved => finance::ApplicationStatus::Approved,
            Self::Rejected => finance::ApplicationStatus::Rejected,
            Self::Withdrawn => finance::ApplicationStatus::Withdrawn,
        }
    }
}

/// What `bank apply` asks for.
#[derive(Debug)]
pub struct NewApplication {
    pub account: String,
    pub amount: String,
    pub term: i32,
    pub purpose: String,
    pub product: Product,
    pub option: Option<String>,
}

fn status(value: i32) -> String {
    finance::ApplicationStatus::try_from(value)
        .map(|s| output::words(s.as_str_name(), "APPLICATION_STATUS_"))
        .unwrap_or_else(|_| value.to_string())
}

fn product(value: i32) -> String {
    finance::ProductType::try_from(value)
        .map(|p| output::words(p.as_str_name(), "PRODUCT_TYPE_"))
        .unwrap_or_else(|_| value.to_string())
}

/// `525` basis points → `5.25%`, exactly.
fn rate(bps: i32) -> String {
    format!("{}.{:02}%", bps / 100, (bps % 100).abs())
}

fn applications_table(applications: &[finance::Application], with_applicant: bool) -> String {
    if applications.is_empty() {
        return "no applications".to_owned();
    }
    let mut headers = vec![
        "ID",
        "PRODUCT",
        ">AMOUNT",
        ">TERM",
        "STATUS",
        "OPTION",
        "SUBMITTED (UTC)",
    ];
    if with_applicant {
        headers.push("APPLICANT");
    }
    let mut table = Table::new(&headers);
    for a in applications {
        let mut row = vec![
            a.application_id.clone(),
            product(a.product_type),
            output::money(a.amount.as_ref()),
            format!("{} mo", a.term_months),
            status(a.status),
            a.selection.as_ref().map(|s| s.option_name.clone()).unwrap_or_default(),
            output::time(a.submit_time.as_ref()),
        ];
        if with_applicant {
            row.push(a.applicant_user_id.clone());
        }
        table.row(row);
    }
    table.render()
}

pub async fn apply(context: &Context, new: NewApplication) -> Result<(), Failure> {
    let amount = bank_client::money::parse(&new.amount).map_err(|e| Failure::Usage(e.to_string()))?;
    let bank = context.session().await?;
    let into = my_account(&bank, &new.account).await?;
    let application = bank
        .finance()
        .submit_application(finance::SubmitApplicationRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            product_type: new.product.proto() as i32,
            amount: Some(amount),
            term_months: new.term,
            purpose: new.purpose,
            disbursement_account_id: into.account_id.clone(),
        })
        .await?
        .into_inner()
        .application
        .unwrap_or_default();
    let Some(option_id) = new.option else {
        context.print(
            json!({"application": json_of(&application, "bank.finance.v1.Application")}),
            || {
                format!(
                    "application {} submitted ({}); choose a financing option with `bank options`",
                    application.application_id,
                    status(application.status)
                )
            },
        );
        return Ok(());
    };
    let selected = bank
        .finance()
        .select_financing_option(finance::SelectFinancingOptionRequest {
            application_id: application.application_id.clone(),
            option_id,
        })
        .await
        .map_err(|status| {
            // The application exists either way: say so.
            let error = bank_client::Error::from(status);
            Failure::Local(anyhow::anyhow!(
                "application {} submitted, but selecting the option failed: {error}",
                application.application_id
            ))
        })?
        .into_inner();
    let application = selected.application.unwrap_or_default();
    let schedule = &selected.projected_schedule;
    context.print(
        json!({
            "application": json_of(&application, "bank.finance.v1.Application"),
            "projectedSchedule": json_list(schedule, "bank.finance.v1.Installment"),
        }),
        || {
            let option = application
                .selection
                .as_ref()
                .map(|s| (s.option_name.clone(), s.annual_rate_bps));
            let (name, bps) = option.unwrap_or_default();
            let payment = schedule.first().and_then(|i| i.payment.as_ref());
            format!(
                "application {} submitted ({}) with option {name} at {}: {} payments of about {}",
                application.application_id,
                status(application.status),
                rate(bps),
                schedule.len(),
                output::money(payment)
            )
        },
    );
    Ok(())
}

pub async fn my_applications(context: &Context) -> Result<(), Failure> {
    let bank = context.session().await?;
    let mut applications = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = bank
            .finance()
            .list_my_applications(finance::ListMyApplicationsRequest {
                page_size: PAGE_SIZE,
                page_token,
                statuses: Vec::new(),
            })
            .await?
            .into_inner();
        applications.extend(page.applications);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    context.print(json!({"applications": applications_json(&applications)}), || {
        applications_table(&applications, false)
    });
    Ok(())
}

pub async fn options(context: &Context) -> Result<(), Failure> {
    let bank = context.session().await?;
    let options = bank
        .finance()
        .list_financing_options(finance::ListFinancingOptionsRequest {
            page_size: PAGE_SIZE,
            ..Default::default()
        })
        .await?
        .into_inner()
        .financing_options;
    context.print(
        json!({"financingOptions": json_list(&options, "bank.finance.v1.FinancingOption")}),
        || {
            if options.is_empty() {
                return "no financing options on offer".to_owned();
            }
            let mut table = Table::new(&["ID", "NAME", "PRODUCT", ">RATE", ">TERM", "AMOUNT"]);
            for o in &options {
                table.row(vec![
                    o.option_id.clone(),
                    o.name.clone(),
                    product(o.product_type),
                    rate(o.annual_rate_bps),
                    format!("{}-{} mo", o.min_term_months, o.max_term_months),
                    format!(
                        "{} to {}",
                        output::money(o.min_amount.as_ref()),
                        output::money(o.max_amount.as_ref())
                    ),
                ]);
            }
            table.render()
        },
    );
    Ok(())
}

pub async fn decide(context: &Context, application_id: &str, verdict: Verdict, reason: &str) -> Result<(), Failure> {
    if verdict != Verdict::Approve && reason.trim().is_empty() {
        return Err(Failure::Usage(
            "a rejection or a request for more information needs --reason (the applicant sees it)".to_owned(),
        ));
    }
    let decision = match verdict {
        Verdict::Approve => finance::Decision::Approve,
        Verdict::Reject => finance::Decision::Reject,
        Verdict::RequestInfo => finance::Decision::RequestInfo,
    };
    let bank = context.session().await?;
    let decided = bank
        .finance()
        .decide_application(finance::DecideApplicationRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            application_id: application_id.to_owned(),
            decision: decision as i32,
            reason: reason.to_owned(),
        })
        .await?
        .into_inner();
    let application = decided.application.clone().unwrap_or_default();
    context.print(json_of(&decided, "bank.finance.v1.DecideApplicationResponse"), || {
        let mut text = format!(
            "application {} is {}",
            application.application_id,
            status(application.status)
        );
        if let Some(loan) = &decided.loan {
            text.push_str(&format!(
                ": loan {} of {} paid into account {}, {} installments of {}",
                loan.loan_id,
                output::money(loan.principal.as_ref()),
                loan.disbursement_account_id,
                loan.term_months,
                output::money(loan.installment_amount.as_ref())
            ));
        } else if !application.status_reason.is_empty() {
            text.push_str(&format!(" ({})", application.status_reason));
        }
        text
    });
    Ok(())
}

pub async fn all_applications(context: &Context, statuses: &[StatusFilter]) -> Result<(), Failure> {
    let statuses: Vec<i32> = if statuses.is_empty() {
        vec![
            finance::ApplicationStatus::Submitted as i32,
            finance::ApplicationStatus::MoreInfoRequested as i32,
        ]
    } else {
        statuses.iter().map(|s| s.proto() as i32).collect()
    };
    let bank = context.session().await?;
    let mut applications = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = bank
            .finance()
            .list_all_applications(finance::ListAllApplicationsRequest {
                page_size: PAGE_SIZE,
                page_token,
                statuses: statuses.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        applications.extend(page.applications);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    context.print(json!({"applications": applications_json(&applications)}), || {
        applications_table(&applications, true)
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_exact() {
        assert_eq!(rate(525), "5.25%");
        assert_eq!(rate(1000), "10.00%");
        assert_eq!(rate(7), "0.07%");
    }
}
