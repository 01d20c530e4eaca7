//! The client subcommands of `bank`: a member's and an admin's everyday
//! tasks against a gateway, through the Rust SDK (`bank-client`).
//!
//! Output is a human table or sentence, or with `--json` the proto3 JSON of
//! the answers (the same shapes as the REST API). Errors go to stderr with
//! the server's reason in words, and the exit code says what kind of
//! failure it was (see [`Failure::exit_code`]).

mod credentials;
mod loans;
mod member;
mod output;

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;

use bank_client::{Bank, Code, ConnectOptions, ErrorKind};
use clap::{Args, Subcommand, ValueEnum};

pub use credentials::CredentialsFile;

/// The gateway `bank` talks to by default.
pub const DEFAULT_GATEWAY: &str = "http://127.0.0.1:8080";

/// Options of every client subcommand.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Client options")]
pub struct ClientArgs {
    /// The gateway's URL (client commands): http:// (h2c) or https://.
    #[arg(long, global = true, env = "BANK_GATEWAY", default_value = DEFAULT_GATEWAY)]
    pub gateway: String,
    /// Print JSON (the API's proto3 JSON) instead of tables (client commands).
    #[arg(long, global = true)]
    pub json: bool,
    /// CA certificate (PEM) to trust for an https:// gateway instead of the
    /// public roots (client commands).
    #[arg(long, global = true, env = "BANK_CA", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM) for a gateway that asks for one (client commands).
    #[arg(long, global = true, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, global = true, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
}

/// The client subcommands.
#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Become a member: create a user (then `bank login`).
    Signup {
        /// Your email address.
        email: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Log in and keep the session in the credentials file
    /// ($XDG_CONFIG_HOME/bank/credentials.toml, owner-only).
    Login {
        /// Your email address.
        email: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// End the session on the server and forget it here.
    Logout {
        /// End every session of the user, on every device.
        #[arg(long)]
        all: bool,
    },
    /// Who is logged in.
    Whoami,
    /// Your accounts with their balances, or open one.
    Accounts {
        #[command(subcommand)]
        action: Option<AccountsAction>,
    },
    /// Put cash into one of your accounts.
    Deposit {
        /// Account id or number.
        account: String,
        /// Amount and currency, e.g. `12.34 USD`.
        #[arg(num_args = 1..=2, required = true, value_name = "AMOUNT", allow_negative_numbers = true)]
        amount: Vec<String>,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        /// Idempotency key (a fresh UUID by default; reuse one to retry safely).
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Move money from one of your accounts to any account.
    Transfer {
        /// Your account: id or number.
        from: String,
        /// The receiving account: id or number (check digits are verified first).
        to: String,
        /// Amount and currency, e.g. `12.34 USD` (exact, in the currency's minor units).
        #[arg(num_args = 1..=2, required = true, value_name = "AMOUNT", allow_negative_numbers = true)]
        amount: Vec<String>,
        /// What it is for (shown to both sides).
        #[arg(long, default_value = "")]
        description: String,
        /// Your reference.
        #[arg(long, default_value = "")]
        reference: String,
        /// Idempotency key (a fresh UUID by default; reuse one to retry safely).
        #[arg(long)]
        request_id: Option<String>,
    },
    /// A month's statement, or every entry exported to a file.
    Statement {
        /// Account id or number.
        account: String,
        /// The month, `YYYY-MM` (this month by default; with --export, all of
        /// the account's history unless given).
        #[arg(long)]
        month: Option<String>,
        /// Stream the entries to this file (with a progress bar).
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
        /// Format of the export.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
    },
    /// Apply for a loan (optionally choosing a financing option at once).
    Apply {
        /// The account the loan is paid into: id or number.
        #[arg(long)]
        account: String,
        /// Amount and currency, e.g. `5000 USD`.
        #[arg(long)]
        amount: String,
        /// Term in months.
        #[arg(long)]
        term: i32,
        /// What the money is for.
        #[arg(long)]
        purpose: String,
        /// Kind of loan.
        #[arg(long, value_enum, default_value_t = loans::Product::Personal)]
        product: loans::Product,
        /// Financing option to select (see `bank options`).
        #[arg(long)]
        option: Option<String>,
    },
    /// Your loan applications.
    Applications,
    /// The financing options on offer.
    Options,
    /// Administration (admins only).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

/// `bank accounts ...`.
#[derive(Subcommand, Debug)]
pub enum AccountsAction {
    /// Your accounts with their balances (the default).
    List {
        /// Include closed accounts.
        #[arg(long)]
        all: bool,
    },
    /// Open an account.
    Open {
        /// ISO-4217 currency.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Kind of account.
        #[arg(long = "type", value_enum, default_value_t = member::Kind::Checking)]
        kind: member::Kind,
        /// A name of your choice.
        #[arg(long, default_value = "")]
        name: String,
    },
}

/// `bank admin ...`.
#[derive(Subcommand, Debug)]
pub enum AdminAction {
    /// Approve, reject or ask for more about a loan application.
    Decide {
        /// The application's id.
        application: String,
        /// The decision.
        #[arg(value_enum)]
        decision: loans::Verdict,
        /// Why (required to reject or ask for more; shown to the applicant).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Loan applications of every member, newest first.
    Applications {
        /// Only these statuses (repeatable); open ones by default.
        #[arg(long = "status", value_enum)]
        statuses: Vec<loans::StatusFilter>,
    },
}

/// Export file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated, one entry a line, with a header line.
    Csv,
    /// One JSON object a line: the header, each entry, the trailer.
    Jsonl,
}

/// Why a client command failed.
#[derive(Debug)]
pub enum Failure {
    /// The command line asked for something impossible (a malformed
    /// amount, account number or month).
    Usage(String),
    /// No usable session: log in first.
    NotLoggedIn(String),
    /// The bank (or the way to it) said no.
    Api(bank_client::Error),
    /// Anything local: files, terminal.
    Local(anyhow::Error),
}

impl From<bank_client::Error> for Failure {
    fn from(error: bank_client::Error) -> Self {
        Self::Api(error)
    }
}

impl From<bank_client::Status> for Failure {
    fn from(status: bank_client::Status) -> Self {
        Self::Api(status.into())
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Self::Local(error.into())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::Local(error)
    }
}

/// Exit code of a refusal by the server (and of local failures).
pub const EXIT_FAILED: u8 = 1;
/// Exit code of a command-line mistake (as clap's).
pub const EXIT_USAGE: u8 = 2;
/// Exit code when logging in (again) is needed.
pub const EXIT_AUTH: u8 = 3;
/// Exit code when the gateway cannot be reached or a service is down.
pub const EXIT_UNAVAILABLE: u8 = 4;

impl Failure {
    /// 1 refused or failed, 2 usage, 3 log in needed, 4 unreachable.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::NotLoggedIn(_) => EXIT_AUTH,
            Self::Api(error) if error.code() == Code::Unauthenticated => EXIT_AUTH,
            Self::Api(error)
                if error.kind() == ErrorKind::Connect
                    || matches!(error.code(), Code::Unavailable | Code::DeadlineExceeded) =>
            {
                EXIT_UNAVAILABLE
            }
            Self::Api(_) | Self::Local(_) => EXIT_FAILED,
        }
    }

    fn human(&self) -> String {
        match self {
            Self::Usage(message) | Self::NotLoggedIn(message) => message.clone(),
            Self::Local(error) => format!("{error:#}"),
            Self::Api(error) => {
                let mut text = error.to_string();
                for violation in error.violations() {
                    text.push_str(&format!("\n  {}: {}", violation.field, violation.description));
                }
                if let Some(delay) = error.retry_delay() {
                    text.push_str(&format!("\n  try again in {} s", delay.as_secs().max(1)));
                }
                if error.code() == Code::Unauthenticated {
                    text.push_str("\n  log in again with `bank login EMAIL`");
                }
                if let Some(id) = error.request_id() {
                    text.push_str(&format!("\n  request id: {id}"));
                }
                text
            }
        }
    }

    fn json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Self::Usage(message) => json!({"error": {"code": "USAGE", "message": message}}),
            Self::NotLoggedIn(message) => json!({"error": {"code": "NOT_LOGGED_IN", "message": message}}),
            Self::Local(error) => json!({"error": {"code": "LOCAL", "message": format!("{error:#}")}}),
            Self::Api(error) => {
                let violations: Vec<_> = error
                    .violations()
                    .iter()
                    .map(|v| json!({"field": v.field, "description": v.description}))
                    .collect();
                json!({"error": {
                    "code": error.code_name(),
                    "message": error.message(),
                    "reason": error.reason(),
                    "metadata": error.metadata(),
                    "violations": violations,
                    "retryDelaySeconds": error.retry_delay().map(|d| d.as_secs()),
                    "requestId": error.request_id(),
                }})
            }
        }
    }
}

/// What a command needs: the gateway, the output mode, the credentials.
pub(crate) struct Context {
    pub args: ClientArgs,
    pub credentials: CredentialsFile,
}

impl Context {
    fn options(&self) -> Result<ConnectOptions, Failure> {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|e| Failure::Local(anyhow::anyhow!("reading {}: {e}", path.display())))
        };
        let mut options = ConnectOptions::new().user_agent(format!("bank-cli/{}", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &self.args.ca {
            options = options.ca_certificate(read(ca)?);
        }
        if let (Some(cert), Some(key)) = (&self.args.client_cert, &self.args.client_key) {
            options = options.client_identity(read(cert)?, read(key)?);
        }
        Ok(options)
    }

    /// A connection without credentials.
    pub async fn connect(&self) -> Result<Bank, Failure> {
        Ok(bank_client::connect(&self.args.gateway, self.options()?).await?)
    }

    /// A connection with the stored session's token, refreshed first when
    /// it is about to expire.
    pub async fn session(&self) -> Result<Bank, Failure> {
        let gateway = &self.args.gateway;
        let Some(session) = self.credentials.session(gateway)? else {
            return Err(Failure::NotLoggedIn(format!(
                "not logged in at {gateway}: run `bank login EMAIL`"
            )));
        };
        let bank = self.connect().await?;
        if !session.access_expiring() {
            bank.set_token(session.access_token());
            return Ok(bank);
        }
        if session.refresh_expired() {
            return Err(Failure::NotLoggedIn(format!(
                "the session at {gateway} has expired: run `bank login {}`",
                session.email
            )));
        }
        match bank.refresh(session.refresh_token()).await {
            Ok(tokens) => {
                self.credentials.store(gateway, session.refreshed(&tokens))?;
                Ok(bank)
            }
            Err(error) if error.code() == Code::Unauthenticated => Err(Failure::NotLoggedIn(format!(
                "the session at {gateway} has ended ({error}): run `bank login {}`",
                session.email
            ))),
            Err(error) => Err(error.into()),
        }
    }

    /// Prints `value` as JSON, or `human()` otherwise.
    pub fn print(&self, value: serde_json::Value, human: impl FnOnce() -> String) {
        let text = if self.args.json {
            serde_json::to_string_pretty(&value).unwrap_or_default()
        } else {
            human()
        };
        if !text.is_empty() {
            println!("{text}");
        }
    }
}

/// Reads a password: the first line of standard input, or a prompt on the
/// terminal without echo (twice when `confirm`).
fn read_password(from_stdin: bool, confirm: bool) -> Result<String, Failure> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first = rpassword::prompt_password("Password: ").map_err(|e| {
            Failure::Local(anyhow::anyhow!(
                "reading the password from the terminal: {e} (use --password-stdin)"
            ))
        })?;
        if confirm {
            let again = rpassword::prompt_password("Password (again): ")?;
            if again != first {
                return Err(Failure::Usage("the passwords differ".to_owned()));
            }
        }
        first
    };
    if password.is_empty() {
        return Err(Failure::Usage("the password is empty".to_owned()));
    }
    Ok(password)
}

async fn dispatch(context: &Context, command: ClientCommand) -> Result<(), Failure> {
    match command {
        ClientCommand::Signup { email, password_stdin } => {
            let password = read_password(password_stdin, true)?;
            member::signup(context, &email, &password).await
        }
        ClientCommand::Login { email, password_stdin } => {
            let password = read_password(password_stdin, false)?;
            member::login(context, &email, &password).await
        }
        ClientCommand::Logout { all } => member::logout(context, all).await,
        ClientCommand::Whoami => member::whoami(context).await,
        ClientCommand::Accounts { action } => match action.unwrap_or(AccountsAction::List { all: false }) {
            AccountsAction::List { all } => member::list_accounts(context, all).await,
            AccountsAction::Open { currency, kind, name } => {
                member::open_account(context, &currency, kind, &name).await
            }
        },
        ClientCommand::Deposit {
            account,
            amount,
            description,
            request_id,
        } => member::deposit(context, &account, &amount.join(" "), description, request_id).await,
        ClientCommand::Transfer {
            from,
            to,
            amount,
            description,
            reference,
            request_id,
        } => {
            let details = member::TransferDetails {
                description,
                reference,
                request_id,
            };
            member::transfer(context, &from, &to, &amount.join(" "), details).await
        }
        ClientCommand::Statement {
            account,
            month,
            export,
            format,
        } => match export {
            Some(path) => member::export_statement(context, &account, month.as_deref(), &path, format).await,
            None => member::statement(context, &account, month.as_deref()).await,
        },
        ClientCommand::Apply {
            account,
            amount,
            term,
            purpose,
            product,
            option,
        } => {
            let application = loans::NewApplication {
                account,
                amount,
                term,
                purpose,
                product,
                option,
            };
            loans::apply(context, application).await
        }
        ClientCommand::Applications => loans::my_applications(context).await,
        ClientCommand::Options => loans::options(context).await,
        ClientCommand::Admin { action } => match action {
            AdminAction::Decide {
                application,
                decision,
                reason,
            } => loans::decide(context, &application, decision, &reason).await,
            AdminAction::Applications { statuses } => loans::all_applications(context, &statuses).await,
        },
    }
}

/// Runs a client command and returns the process's exit code (0 on
/// success); errors are printed on stderr (as JSON with `--json`).
pub async fn run(args: ClientArgs, command: ClientCommand) -> u8 {
    let json = args.json;
    let outcome = match CredentialsFile::locate() {
        Ok(credentials) => dispatch(&Context { args, credentials }, command).await,
        Err(error) => Err(error),
    };
    let _ = std::io::stdout().flush();
    match outcome {
        Ok(()) => 0,
        Err(failure) => {
            if json {
                eprintln!("{}", failure.json());
            } else {
                eprintln!("error: {}", failure.human());
            }
            failure.exit_code()
        }
    }
}
