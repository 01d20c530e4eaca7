//! A member's first minutes at the bank, against a running `bank up`:
//! sign up, log in, open a checking and a savings account, deposit, move
//! money between them by account number, and read the balances.
//!
//! ```sh
//! make run                                   # in another terminal
//! cargo run -p bank-client --example member_flow [GATEWAY_URL]
//! ```
//!
//! The gateway defaults to `$BANK_GATEWAY` or `http://127.0.0.1:8080`; for
//! an `https://` gateway with a private CA set `BANK_CA=path/to/ca.crt`.

use bank_client::{ConnectOptions, account, auth, connect, money, transfer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let gateway = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("BANK_GATEWAY").ok())
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let mut options = ConnectOptions::new().user_agent("member-flow-example");
    if let Ok(ca) = std::env::var("BANK_CA") {
        options = options.ca_certificate(std::fs::read(ca)?);
    }
    let bank = connect(&gateway, options).await?;
    println!("connected to {gateway}");

    // Sign up and log in; the access token goes on every later call.
    let email = format!("ada.{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let password = "a long passphrase 1";
    let user = bank
        .auth()
        .sign_up(auth::SignUpRequest {
            email: email.clone(),
            password: password.to_owned(),
        })
        .await?
        .into_inner()
        .user
        .ok_or("no user in the answer")?;
    bank.login(&email, password).await?;
    println!("signed up and logged in as {email} (user {})", user.id);

    // Two accounts. The SDK fills each request_id, so a retry after a lost
    // answer opens (and later moves money) only once.
    let mut opened = Vec::new();
    for (kind, name) in [
        (account::AccountType::Checking, "everyday"),
        (account::AccountType::Savings, "rainy day"),
    ] {
        let account = bank
            .accounts()
            .open_account(account::OpenAccountRequest {
                r#type: kind as i32,
                currency: "USD".to_owned(),
                display_name: name.to_owned(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .account
            .ok_or("no account in the answer")?;
        println!("opened {name:<10} {} ({})", account.account_number, account.account_id);
        opened.push(account);
    }
    let (checking, savings) = (&opened[0], &opened[1]);

    let deposit = bank
        .transfers()
        .deposit(transfer::DepositRequest {
            account_id: checking.account_id.clone(),
            amount: Some(money::parse("100.00 USD")?),
            description: "first pay cheque".to_owned(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .transfer
        .ok_or("no transfer in the answer")?;
    println!("deposited 100.00 USD (transfer {})", deposit.transfer_id);

    let sent = bank
        .transfers()
        .create_transfer(transfer::CreateTransferRequest {
            from_account_id: checking.account_id.clone(),
            destination: Some(transfer::create_transfer_request::Destination::ToAccountNumber(
                savings.account_number.clone(),
            )),
            amount: Some(money::parse("25.50 USD")?),
            description: "savings".to_owned(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .transfer
        .ok_or("no transfer in the answer")?;
    println!(
        "sent 25.50 USD to {} (transfer {}, request id {})",
        savings.account_number, sent.transfer_id, sent.request_id
    );

    // A refused transfer says why, in words and as a machine-readable reason.
    let refused = bank
        .transfers()
        .create_transfer(transfer::CreateTransferRequest {
            from_account_id: savings.account_id.clone(),
            destination: Some(transfer::create_transfer_request::Destination::ToAccountId(
                checking.account_id.clone(),
            )),
            amount: Some(money::parse("1000 USD")?),
            ..Default::default()
        })
        .await;
    if let Err(status) = refused {
        let error = bank_client::Error::from(status);
        println!("moving 1000.00 USD back was refused: {error}");
    }

    for account in &opened {
        let balance = bank
            .transfers()
            .get_balance(transfer::GetBalanceRequest {
                account_id: account.account_id.clone(),
            })
            .await?
            .into_inner()
            .balance
            .ok_or("no balance in the answer")?;
        let posted = balance.posted.as_ref().map(money::format).unwrap_or_default();
        println!("balance of {}: {posted}", account.account_number);
    }
    Ok(())
}
