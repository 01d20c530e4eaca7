//! A member's commands: sign-up, log-in, accounts, deposits, transfers,
//! statements.

use std::io::Write as _;
use std::path::Path;

use bank_client::{Bank, account, auth, money, transfer};
use clap::ValueEnum;
use serde_json::json;

use super::credentials::Session;
use super::output::{self, Table, json_list, json_of};
use super::{Context, ExportFormat, Failure};

/// Largest page asked for when listing.
const PAGE_SIZE: i32 = 100;

/// Kinds of account a member can open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Checking,
    Savings,
}

fn roles(user: &auth::User) -> String {
    user.roles
        .iter()
        .filter_map(|r| auth::Role::try_from(*r).ok())
        .map(|r| output::words(r.as_str_name(), "ROLE_"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn signup(context: &Context, email: &str, password: &str) -> Result<(), Failure> {
    let bank = context.connect().await?;
    let answer = bank
        .auth()
        .sign_up(auth::SignUpRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        })
        .await?
        .into_inner();
    let user = answer.user.unwrap_or_default();
    context.print(json_of(&user, "bank.auth.v1.User"), || {
        format!(
            "signed up {} (user {}); now run `bank login {}`",
            user.email, user.id, user.email
        )
    });
    Ok(())
}

pub async fn login(context: &Context, email: &str, password: &str) -> Result<(), Failure> {
    let bank = context.connect().await?;
    let answer = bank.login(email, password).await.map_err(|error| {
        if error.code() == bank_client::Code::Unauthenticated {
            // Not "log in again": this was the log-in.
            Failure::NotLoggedIn(error.to_string())
        } else {
            error.into()
        }
    })?;
    let (Some(tokens), Some(user)) = (answer.tokens, answer.user) else {
        return Err(Failure::Local(anyhow::anyhow!(
            "the server answered the log-in without tokens"
        )));
    };
    let gateway = &context.args.gateway;
    context
        .credentials
        .store(gateway, Session::new(&user.email, &user.id, &tokens))?;
    context.print(
        json!({"user": json_of(&user, "bank.auth.v1.User"), "gateway": gateway}),
        || {
            format!(
                "logged in as {} ({}) at {gateway}; session kept in {}",
                user.email,
                roles(&user),
                context.credentials.path().display()
            )
        },
    );
    Ok(())
}

pub async fn logout(context: &Context, all: bool) -> Result<(), Failure> {
    let gateway = &context.args.gateway;
    if context.credentials.session(gateway)?.is_none() {
        context.print(json!({"sessionsRevoked": 0}), || format!("not logged in at {gateway}"));
        return Ok(());
    }
    // End the session on the server if it is still alive; forget it here in any case.
    let revoked = match context.session().await {
        Ok(bank) => match bank.logout(all).await {
            Ok(revoked) => Some(revoked),
            Err(error) if error.code() == bank_client::Code::Unauthenticated => None,
            Err(error) => return Err(error.into()),
        },
        Err(Failure::NotLoggedIn(_)) => None,
        Err(failure) => return Err(failure),
    };
    context.credentials.remove(gateway)?;
    context.print(json!({"sessionsRevoked": revoked.unwrap_or(0)}), || match revoked {
        Some(n) => format!("logged out ({n} session{} ended)", if n == 1 { "" } else { "s" }),
        None => "logged out (the session had already ended)".to_owned(),
    });
    Ok(())
}

pub async fn whoami(context: &Context) -> Result<(), Failure> {
    let bank = context.session().await?;
    let user = bank
        .auth()
        .me(auth::MeRequest {})
        .await?
        .into_inner()
        .user
        .unwrap_or_default();
    context.print(json_of(&user, "bank.auth.v1.User"), || {
        format!("{} (user {}; {})", user.email, user.id, roles(&user))
    });
    Ok(())
}

/// Every account of the caller, following pages.
async fn my_accounts(bank: &Bank, include_closed: bool) -> Result<Vec<account::Account>, Failure> {
    let mut accounts = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = bank
            .accounts()
            .list_accounts(account::ListAccountsRequest {
                page_size: PAGE_SIZE,
                page_token,
                include_closed,
            })
            .await?
            .into_inner();
        accounts.extend(page.accounts);
        if page.next_page_token.is_empty() {
            return Ok(accounts);
        }
        page_token = page.next_page_token;
    }
}

/// The account `text` names among the caller's: its id, or its number.
pub(crate) async fn my_account(bank: &Bank, text: &str) -> Result<account::Account, Failure> {
    let by_id = uuid::Uuid::parse_str(text).is_ok();
    let number = if by_id {
        None
    } else {
        Some(bank_client::account_number::parse(text).map_err(|e| Failure::Usage(format!("'{text}': {e}")))?)
    };
    let found = my_accounts(bank, true).await?.into_iter().find(|a| match &number {
        Some(number) => a.account_number == *number,
        None => a.account_id.eq_ignore_ascii_case(text),
    });
    found.ok_or_else(|| Failure::Usage(format!("you have no account '{text}' (see `bank accounts`)")))
}

fn parse_money(text: &str) -> Result<bank_client::common::Money, Failure> {
    let amount = money::parse(text).map_err(|e| Failure::Usage(e.to_string()))?;
    if amount.amount_minor <= 0 {
        return Err(Failure::Usage(format!("'{text}': the amount must be positive")));
    }
    Ok(amount)
}

fn label<E>(value: i32, name: impl Fn(&E) -> &'static str, prefix: &str) -> String
where
    E: TryFrom<i32>,
{
    E::try_from(value)
        .map(|e| output::words(name(&e), prefix))
        .unwrap_or_else(|_| value.to_string())
}

fn account_type(value: i32) -> String {
    label(value, account::AccountType::as_str_name, "ACCOUNT_TYPE_")
}

fn account_status(value: i32) -> String {
    label(value, account::AccountStatus::as_str_name, "ACCOUNT_STATUS_")
}

pub async fn list_accounts(context: &Context, include_closed: bool) -> Result<(), Failure> {
    let bank = context.session().await?;
    let accounts = my_accounts(&bank, include_closed).await?;
    let mut balances = Vec::with_capacity(accounts.len());
    for account in &accounts {
        let balance = bank
            .transfers()
            .get_balance(transfer::GetBalanceRequest {
                account_id: account.account_id.clone(),
            })
            .await?
            .into_inner()
            .balance
            .unwrap_or_default();
        balances.push(balance);
    }
    let json = accounts
        .iter()
        .zip(&balances)
        .map(|(a, b)| {
            let mut value = json_of(a, "bank.account.v1.Account");
            value["balance"] = json_of(b, "bank.transfer.v1.Balance");
            value
        })
        .collect::<Vec<_>>();
    context.print(json!({ "accounts": json }), || {
        if accounts.is_empty() {
            return "no accounts yet: open one with `bank accounts open --currency USD`".to_owned();
        }
        let mut table = Table::new(&["NUMBER", "NAME", "TYPE", "STATUS", ">BALANCE", ">AVAILABLE", "ID"]);
        for (a, b) in accounts.iter().zip(&balances) {
            table.row(vec![
                output::account_number(&a.account_number),
                a.display_name.clone(),
                account_type(a.r#type),
                account_status(a.status),
                output::money(b.posted.as_ref()),
                output::money(b.available.as_ref()),
                a.account_id.clone(),
            ]);
        }
        table.render()
    });
    Ok(())
}

pub async fn open_account(context: &Context, currency: &str, kind: Kind, name: &str) -> Result<(), Failure> {
    let bank = context.session().await?;
    let kind = match kind {
        Kind::Checking => account::AccountType::Checking,
        Kind::Savings => account::AccountType::Savings,
    };
    let opened = bank
        .accounts()
        .open_account(account::OpenAccountRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            r#type: kind as i32,
            currency: currency.to_ascii_uppercase(),
            display_name: name.to_owned(),
        })
        .await?
        .into_inner()
        .account
        .unwrap_or_default();
    context.print(json_of(&opened, "bank.account.v1.Account"), || {
        format!(
            "opened {} account {} in {} (id {})",
            account_type(opened.r#type),
            output::account_number(&opened.account_number),
            opened.currency,
            opened.account_id
        )
    });
    Ok(())
}

fn request_id(given: Option<String>) -> String {
    given.unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn transfer_status(value: i32) -> String {
    label(value, transfer::TransferStatus::as_str_name, "TRANSFER_STATUS_")
}

pub async fn deposit(
    context: &Context,
    account_text: &str,
    amount: &str,
    description: String,
    given_request_id: Option<String>,
) -> Result<(), Failure> {
    let amount = parse_money(amount)?;
    let bank = context.session().await?;
    let into = my_account(&bank, account_text).await?;
    let done = bank
        .transfers()
        .deposit(transfer::DepositRequest {
            request_id: request_id(given_request_id),
            account_id: into.account_id.clone(),
            amount: Some(amount),
            description,
        })
        .await?
        .into_inner()
        .transfer
        .unwrap_or_default();
    context.print(json_of(&done, "bank.transfer.v1.Transfer"), || {
        format!(
            "deposited {} into {}: {} (transfer {}, request id {})",
            output::money(done.amount.as_ref()),
            output::account_number(&into.account_number),
            transfer_status(done.status),
            done.transfer_id,
            done.request_id
        )
    });
    Ok(())
}

/// Optional parts of a transfer.
#[derive(Debug)]
pub struct TransferDetails {
    pub description: String,
    pub reference: String,
    pub request_id: Option<String>,
}

pub async fn transfer(
    context: &Context,
    from_text: &str,
    to_text: &str,
    amount: &str,
    details: TransferDetails,
) -> Result<(), Failure> {
    use transfer::create_transfer_request::Destination;
    let amount = parse_money(amount)?;
    // Check the destination before anything is sent: a typo is caught here.
    let destination = if uuid::Uuid::parse_str(to_text).is_ok() {
        Destination::ToAccountId(to_text.to_owned())
    } else {
        let number =
            bank_client::account_number::parse(to_text).map_err(|e| Failure::Usage(format!("'{to_text}': {e}")))?;
        Destination::ToAccountNumber(number)
    };
    let bank = context.session().await?;
    let from = my_account(&bank, from_text).await?;
    let sent = bank
        .transfers()
        .create_transfer(transfer::CreateTransferRequest {
            request_id: request_id(details.request_id),
            from_account_id: from.account_id.clone(),
            destination: Some(destination),
            amount: Some(amount),
            description: details.description,
            reference: details.reference,
        })
        .await?
        .into_inner()
        .transfer
        .unwrap_or_default();
    context.print(json_of(&sent, "bank.transfer.v1.Transfer"), || {
        format!(
            "sent {} from {} to {}: {} (transfer {}, request id {})",
            output::money(sent.amount.as_ref()),
            output::account_number(&from.account_number),
            output::account_number(to_text),
            transfer_status(sent.status),
            sent.transfer_id,
            sent.request_id
        )
    });
    Ok(())
}

/// `YYYY-MM`, or this month (UTC).
fn parse_month(month: Option<&str>) -> Result<(i32, u32), Failure> {
    use chrono::Datelike as _;
    let Some(text) = month else {
        let today = chrono::Utc::now().date_naive();
        return Ok((today.year(), today.month()));
    };
    let bad = || Failure::Usage(format!("'{text}' is not a month: write it like 2026-01"));
    let (year, month) = text.split_once('-').ok_or_else(bad)?;
    let (year, month): (i32, u32) = (year.parse().map_err(|_| bad())?, month.parse().map_err(|_| bad())?);
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) {
        return Err(bad());
    }
    Ok((year, month))
}

/// The first instant of `(year, month)` and of the month after.
fn month_bounds(year: i32, month: u32) -> Option<(prost_types::Timestamp, prost_types::Timestamp)> {
    let first = chrono::NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        chrono::NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let at = |date: chrono::NaiveDate| prost_types::Timestamp {
        seconds: date.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp()),
        nanos: 0,
    };
    Some((at(first), at(next)))
}

fn signed_amount(entry: &account::StatementEntry) -> String {
    let debit = entry.direction == transfer::EntryDirection::Debit as i32;
    match &entry.amount {
        Some(amount) if debit => money::format(&bank_client::common::Money {
            amount_minor: amount.amount_minor.saturating_neg(),
            currency: amount.currency.clone(),
        }),
        other => output::money(other.as_ref()),
    }
}

fn kind(value: i32) -> String {
    label(value, transfer::TransferKind::as_str_name, "TRANSFER_KIND_")
}

pub async fn statement(context: &Context, account_text: &str, month: Option<&str>) -> Result<(), Failure> {
    let (year, month) = parse_month(month)?;
    let bank = context.session().await?;
    let of = my_account(&bank, account_text).await?;
    let statement = bank
        .accounts()
        .get_statement(account::GetStatementRequest {
            account_id: of.account_id.clone(),
            period: Some(bank_client::common::YearMonth {
                year,
                month: i32::try_from(month).unwrap_or(1),
            }),
        })
        .await?
        .into_inner()
        .statement
        .unwrap_or_default();
    context.print(json_of(&statement, "bank.account.v1.Statement"), || {
        let mut text = format!(
            "statement of {} ({}) for {year}-{month:02}\n\
             opening balance  {}\n\
             credits          {}\n\
             debits           {}\n\
             closing balance  {}\n",
            output::account_number(&statement.account_number),
            statement.currency,
            output::money(statement.opening_balance.as_ref()),
            output::money(statement.total_credits.as_ref()),
            output::money(statement.total_debits.as_ref()),
            output::money(statement.closing_balance.as_ref()),
        );
        if statement.entries.is_empty() {
            text.push_str("\nno entries this month");
            return text;
        }
        let mut table = Table::new(&["#", "POSTED (UTC)", "KIND", "DESCRIPTION", ">AMOUNT", ">BALANCE"]);
        for entry in &statement.entries {
            table.row(vec![
                entry.sequence.to_string(),
                output::time(entry.post_time.as_ref()),
                kind(entry.kind),
                entry.description.clone(),
                signed_amount(entry),
                output::money(entry.balance_after.as_ref()),
            ]);
        }
        text.push('\n');
        text.push_str(&table.render());
        if statement.entries_truncated {
            text.push_str(&format!(
                "\n... {} entries in all: use --export to get every one",
                statement.entry_count
            ));
        }
        text
    });
    Ok(())
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn minor_of(money: Option<&bank_client::common::Money>) -> String {
    money.map_or_else(String::new, |m| money::format_amount(m.amount_minor, &m.currency))
}

pub async fn export_statement(
    context: &Context,
    account_text: &str,
    month: Option<&str>,
    path: &Path,
    format: ExportFormat,
) -> Result<(), Failure> {
    use account::export_statement_response::Item;
    let bounds = match month {
        Some(text) => {
            let (year, month) = parse_month(Some(text))?;
            Some(month_bounds(year, month).ok_or_else(|| Failure::Usage(format!("'{text}' is not a month")))?)
        }
        None => None,
    };
    let bank = context.session().await?;
    let of = my_account(&bank, account_text).await?;
    let mut stream = bank
        .accounts()
        .export_statement(account::ExportStatementRequest {
            account_id: of.account_id.clone(),
            start_time: bounds.as_ref().map(|b| b.0),
            end_time: bounds.as_ref().map(|b| b.1),
        })
        .await?
        .into_inner();
    // Written next to the target and renamed at the end: no half file on failure.
    let partial = path.with_extension("partial");
    let file = std::fs::File::create(&partial)
        .map_err(|e| Failure::Local(anyhow::anyhow!("creating {}: {e}", partial.display())))?;
    let mut out = std::io::BufWriter::new(file);
    let progress = if context.args.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
    };
    progress.set_style(
        indicatif::ProgressStyle::with_template("{spinner} exporting [{bar:30}] {pos}/{len} entries ({eta})")
            .map_err(|e| Failure::Local(e.into()))?
            .progress_chars("=> "),
    );
    if format == ExportFormat::Csv {
        writeln!(
            out,
            "sequence,post_time,kind,direction,amount,currency,balance_after,description,reference,transfer_id,counterparty_account_id"
        )?;
    }
    let mut written: u64 = 0;
    let mut trailer = None;
    let result: Result<(), Failure> = async {
        while let Some(message) = stream.message().await? {
            let Some(item) = message.item else { continue };
            match &item {
                Item::Header(header) => progress.set_length(u64::try_from(header.entry_count).unwrap_or(0)),
                Item::Entry(_) => {
                    written += 1;
                    progress.inc(1);
                }
                Item::Trailer(t) => trailer = Some(t.clone()),
            }
            match (format, item) {
                (ExportFormat::Jsonl, item) => {
                    let value = match item {
                        Item::Header(h) => json!({"header": json_of(&h, "bank.account.v1.StatementHeader")}),
                        Item::Entry(e) => json!({"entry": json_of(&e, "bank.account.v1.StatementEntry")}),
                        Item::Trailer(t) => json!({"trailer": json_of(&t, "bank.account.v1.StatementTrailer")}),
                    };
                    writeln!(out, "{value}")?;
                }
                (ExportFormat::Csv, Item::Entry(e)) => {
                    let direction = label(e.direction, transfer::EntryDirection::as_str_name, "ENTRY_DIRECTION_");
                    let currency = e.amount.as_ref().map(|m| m.currency.clone()).unwrap_or_default();
                    let fields = [
                        e.sequence.to_string(),
                        e.post_time
                            .as_ref()
                            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
                            .map(|t| t.to_rfc3339())
                            .unwrap_or_default(),
                        kind(e.kind),
                        direction,
                        minor_of(e.amount.as_ref()),
                        currency,
                        minor_of(e.balance_after.as_ref()),
                        e.description.clone(),
                        e.reference.clone(),
                        e.transfer_id.clone(),
                        e.counterparty_account_id.clone(),
                    ];
                    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                    writeln!(out, "{}", line.join(","))?;
                }
                (ExportFormat::Csv, _) => {}
            }
        }
        Ok(())
    }
    .await;
    progress.finish_and_clear();
    let finished = result.and_then(|()| {
        let trailer = trailer.ok_or_else(|| Failure::Local(anyhow::anyhow!("the export ended without its trailer")))?;
        out.flush()?;
        std::fs::rename(&partial, path)?;
        Ok(trailer)
    });
    let trailer = match finished {
        Ok(trailer) => trailer,
        Err(failure) => {
            let _ = std::fs::remove_file(&partial);
            return Err(failure);
        }
    };
    context.print(
        json!({
            "file": path.display().to_string(),
            "entries": written,
            "trailer": json_of(&trailer, "bank.account.v1.StatementTrailer"),
        }),
        || {
            format!(
                "exported {written} entries of {} to {} (closing balance {})",
                output::account_number(&of.account_number),
                path.display(),
                output::money(trailer.closing_balance.as_ref())
            )
        },
    );
    Ok(())
}

/// JSON of a list of applications (shared with the loan commands).
pub(crate) fn applications_json(applications: &[bank_client::finance::Application]) -> serde_json::Value {
    json_list(applications, "bank.finance.v1.Application")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn months_and_their_bounds() {
        assert_eq!(parse_month(Some("2026-01")).unwrap(), (2026, 1));
        for bad in ["2026", "2026-13", "26-01", "2026-1x", "1969-12"] {
            assert!(parse_month(Some(bad)).is_err(), "{bad}");
        }
        let (start, end) = month_bounds(2025, 12).unwrap();
        assert_eq!(
            chrono::DateTime::from_timestamp(start.seconds, 0).unwrap().to_rfc3339(),
            "2025-12-01T00:00:00+00:00"
        );
        assert_eq!(
            chrono::DateTime::from_timestamp(end.seconds, 0).unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("rent"), "rent");
        assert_eq!(csv_field("rent, march"), "\"rent, march\"");
        assert_eq!(csv_field("a \"b\""), "\"a \"\"b\"\"\"");
    }
}
