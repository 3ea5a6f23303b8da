//! The `ardoise-server` command: serve the sync API, or administer shops and devices directly
//! on the database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use ardoise_server::dispatch::{DispatchConfig, Dispatcher};
use ardoise_server::send::TransportConfig;
use ardoise_server::{Db, Quota, RateLimit, ServeConfig, TlsFiles};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(name = "ardoise-server", version, about = "Ardoise back office: sync server and administration")]
struct Cli {
    /// sqlite://FILE?mode=rwc or postgres://USER@HOST/DB
    #[arg(long, global = true, env = "ARDOISE_DATABASE_URL", default_value = "sqlite://ardoise-server.db?mode=rwc")]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the sync API.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// PEM certificate chain; with --tls-key, serves HTTPS.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Requests per second allowed per device token (0: no limit).
        #[arg(long, default_value_t = RateLimit::default().per_second)]
        rate_per_second: u32,
        /// Requests a device may send at once before the rate applies.
        #[arg(long, default_value_t = RateLimit::default().burst)]
        rate_burst: u32,
        /// Events a device may push per UTC day (0: no limit); past it, 429 until midnight UTC.
        #[arg(long, default_value_t = Quota::default().events_per_day)]
        quota_events: u64,
        /// Bytes of payload a device's events may occupy in the log (0: no limit); past it, 413.
        #[arg(long, default_value_t = Quota::default().bytes_stored)]
        quota_bytes: u64,
        #[command(flatten)]
        reminders: ReminderArgs,
        #[command(flatten)]
        pay: PayArgs,
    },
    /// Shops.
    Shop {
        #[command(subcommand)]
        command: ShopCommand,
    },
    /// Print a one-time code that enrols one device into a shop.
    EnrolCode {
        #[arg(long)]
        shop: Uuid,
        #[arg(long, default_value_t = 24)]
        ttl_hours: u32,
    },
    /// Re-enrol a lost or reinstalled till: revoke its token and print a one-time code that
    /// enrols only this device id.
    ReplaceDevice {
        #[arg(long)]
        shop: Uuid,
        #[arg(long)]
        device: Uuid,
        #[arg(long, default_value_t = 24)]
        ttl_hours: u32,
    },
    /// Revoke a device's token.
    Revoke {
        #[arg(long)]
        device: Uuid,
    },
    /// List a shop's devices.
    Devices {
        #[arg(long)]
        shop: Uuid,
    },
    /// The events a shop's devices sent that its rules refused, newest first: which device,
    /// what, and why (a till with a bug, or a hostile one, shows here).
    Rejections {
        #[arg(long)]
        shop: Uuid,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Give a shop a new epoch after restoring a backup: every device resyncs fully.
    NewEpoch {
        #[arg(long)]
        shop: Uuid,
    },
    /// The penalty rate tables every till uses.
    Rates {
        #[command(subcommand)]
        command: RatesCommand,
    },
    /// A shop's Stripe account: its secret key and webhook signing secret(s), kept on the
    /// server only. Stripe's webhook then points at /v1/pay/stripe/SHOP_ID.
    Stripe {
        #[arg(long)]
        shop: Uuid,
        /// The API secret key (sk_...), read from this environment variable.
        #[arg(long, default_value = "ARDOISE_STRIPE_SECRET_KEY")]
        secret_key_env: String,
        /// The webhook signing secret (whsec_...), read from this environment variable; a
        /// second, comma-separated, is accepted too while rotating.
        #[arg(long, default_value = "ARDOISE_STRIPE_WEBHOOK_SECRETS")]
        webhook_secrets_env: String,
    },
    /// A shop's Mollie account: its API key (live_... or test_...), kept on the server only.
    /// Mollie's notifications are unsigned hints: each is checked with Mollie's API before
    /// anything is recorded. Webhook URL: /v1/pay/mollie/SHOP_ID.
    Mollie {
        #[arg(long)]
        shop: Uuid,
        /// The API key, read from this environment variable.
        #[arg(long, default_value = "ARDOISE_MOLLIE_API_KEY")]
        api_key_env: String,
    },
    /// Print a payment page (a Stripe Checkout Session, or a Mollie payment) for what a
    /// customer owes now, from the shop's provider account.
    PayLink {
        #[arg(long)]
        shop: Uuid,
        /// The customer's reference.
        #[arg(long)]
        customer: String,
        /// Where the merged copy of each shop's ledger lives (as for `serve`).
        #[arg(long, default_value = "ardoise-server-data")]
        data_dir: PathBuf,
        #[command(flatten)]
        pay: PayArgs,
    },
    /// Bank statements.
    Bank {
        #[command(subcommand)]
        command: BankCommand,
    },
    /// Owners' accounts on the web back office.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print a customer's payment page link (no login; valid --days days): their open invoices,
    /// the payment reference, and forms to dispute an invoice or promise a date.
    PayPage {
        #[arg(long)]
        shop: Uuid,
        /// The customer's reference.
        #[arg(long)]
        customer: String,
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// The address the server is reached at, for the printed link.
        #[arg(long, default_value = "http://127.0.0.1:8443")]
        base_url: String,
        /// Where the merged copy of each shop's ledger lives (as for `serve`).
        #[arg(long, default_value = "ardoise-server-data")]
        data_dir: PathBuf,
        /// End every payment page of this customer instead.
        #[arg(long)]
        revoke: bool,
    },
    /// Record a payment the back office received (a transfer seen on the bank account, a
    /// cheque posted to the shop): an entry of the server's own device, synced to every till
    /// once; the customer's queued reminders are rewritten at once.
    Payment {
        #[arg(long)]
        shop: Uuid,
        /// The customer's reference, or their payment reference (RF...).
        #[arg(long)]
        customer: String,
        /// In euros: 12.50
        #[arg(long)]
        amount: String,
        /// transfer, card, cheque or cash
        #[arg(long, default_value = "transfer")]
        method: String,
        /// The invoice it pays (its reference, as printed); without it, the oldest open
        /// invoices first.
        #[arg(long)]
        invoice: Option<String>,
        /// The day it was paid (the value date), if not today.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
        /// Where the merged copy of each shop's ledger lives (as for `serve`).
        #[arg(long, default_value = "ardoise-server-data")]
        data_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add an owner to a shop (or reset their password): prints a one-time set-up link where
    /// they choose their password.
    Add {
        #[arg(long)]
        shop: Uuid,
        #[arg(long)]
        email: String,
        /// fr or en
        #[arg(long, default_value = "fr")]
        language: String,
        #[arg(long, default_value_t = 48)]
        ttl_hours: u32,
        /// The address the server is reached at, for the printed link.
        #[arg(long, default_value = "http://127.0.0.1:8443")]
        base_url: String,
    },
}

#[derive(Debug, Subcommand)]
enum BankCommand {
    /// Import a bank statement for a shop (ISO 20022 CAMT.053 .001.02 to .08, CFONB 120, OFX
    /// 1.x/2.x, or a CSV export with `--mapping`): a credit quoting a
    /// customer's payment reference, or naming open invoices that add up to it, becomes their
    /// payment, once however often the file is imported; other credits are suggested or left.
    /// A malformed or unbalanced file changes nothing.
    Import {
        #[arg(long)]
        shop: Uuid,
        file: PathBuf,
        /// For a CSV export: the JSON file mapping its columns (docs/bank-formats.md).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Print `{"imported", "duplicates", "applied", "suggested", "unmatched"}`.
        #[arg(long)]
        json: bool,
        /// Where the merged copy of each shop's ledger lives (as for `serve`).
        #[arg(long, default_value = "ardoise-server-data")]
        data_dir: PathBuf,
    },
    /// The shop's bank transactions, newest first.
    List {
        #[arg(long)]
        shop: Uuid,
        /// applied, suggested or unmatched
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value = "ardoise-server-data")]
        data_dir: PathBuf,
    },
    /// Record a suggested credit as a customer's payment.
    Confirm {
        #[arg(long)]
        shop: Uuid,
        transaction: String,
        #[arg(long)]
        customer: String,
        #[arg(long)]
        invoice: Option<String>,
        /// Who confirms, kept with the match.
        #[arg(long, default_value = "back office")]
        by: String,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value = "ardoise-server-data")]
        data_dir: PathBuf,
    },
    /// Undo a match: its payment is reversed on every till.
    Undo {
        #[arg(long)]
        shop: Uuid,
        transaction: String,
        #[arg(long, default_value = "back office")]
        by: String,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value = "ardoise-server-data")]
        data_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum RatesCommand {
    /// Send new rate tables (CSV as in shared/reference/) to every shop's tills through sync,
    /// or to one shop's with --shop: a new half-year reaches the tills without a release.
    Set {
        /// CSV: effective_date,rate_pct[,source]
        #[arg(long, value_name = "FILE")]
        ecb: PathBuf,
        /// CSV: year,half,creditor_individual_pct,all_other_cases_pct[,source]
        #[arg(long, value_name = "FILE")]
        legal: PathBuf,
        /// The day both tables were checked against their sources, for files without a
        /// `# checked_through: YYYY-MM-DD` line
        #[arg(long, value_name = "YYYY-MM-DD")]
        checked_through: Option<String>,
        #[arg(long)]
        shop: Option<Uuid>,
        /// Where the merged copy of each shop's ledger lives (as for `serve`).
        #[arg(long, default_value = "ardoise-server-data")]
        data_dir: PathBuf,
    },
}

/// Sending the shops' reminders.
#[derive(Debug, clap::Args)]
struct ReminderArgs {
    /// Send no reminders (another server process does, or the shop sends them itself).
    #[arg(long)]
    no_reminders: bool,
    /// The transports as JSON: {"smtp": {...}, "mail_dir": "...", "sms": {...}, "letters_dir": "..."}.
    /// Without it, emails are written as .eml files under DATA_DIR/mail and letters as PDF
    /// under DATA_DIR/letters.
    #[arg(long)]
    transports: Option<PathBuf>,
    /// Where the merged copy of each shop's ledger and the default mail and letter folders live.
    #[arg(long, default_value = "ardoise-server-data")]
    data_dir: PathBuf,
    /// Minutes a queued reminder waits, so that a payment from a till that was offline can arrive first.
    #[arg(long, default_value_t = 10)]
    grace_minutes: i64,
    /// Seconds between two reminder rounds.
    #[arg(long, default_value_t = 60)]
    every_secs: u64,
    /// Do not run the reminder ladder on the server (send only what the tills queued).
    #[arg(long)]
    no_ladder: bool,
    /// Seconds another server process on the same database waits before taking over a
    /// reminder (or a day's reminder run) this one claimed and did not finish: longer than a
    /// send can take.
    #[arg(long, default_value_t = ardoise_server::dispatch::DEFAULT_CLAIM_LEASE.as_secs())]
    claim_lease_secs: u64,
}

impl ReminderArgs {
    fn config(&self) -> anyhow::Result<Option<DispatchConfig>> {
        if self.no_reminders {
            return Ok(None);
        }
        let transports = match &self.transports {
            Some(file) => {
                let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("{}: not a transports configuration", file.display()))?
            }
            None => TransportConfig {
                smtp: None,
                mail_dir: Some(self.data_dir.join("mail")),
                sms: None,
                letters_dir: self.data_dir.join("letters"),
            },
        };
        Ok(Some(DispatchConfig {
            data_dir: self.data_dir.join("merged"),
            grace_minutes: self.grace_minutes,
            run_ladder: !self.no_ladder,
            transports,
        }))
    }
}

/// Where the payment providers' APIs are (tests point them at a stand-in).
#[derive(Debug, clap::Args)]
struct PayArgs {
    #[arg(long, env = "ARDOISE_STRIPE_API", default_value = "https://api.stripe.com")]
    stripe_api: String,
    #[arg(long, env = "ARDOISE_MOLLIE_API", default_value = "https://api.mollie.com")]
    mollie_api: String,
    /// This server's public address (https://...): customers return to its /v1/pay/done
    /// after paying, and Mollie payments name its webhook.
    #[arg(long, env = "ARDOISE_PUBLIC_URL")]
    public_url: Option<String>,
}

impl PayArgs {
    fn apis(&self) -> ardoise_server::pay::PayApis {
        ardoise_server::pay::PayApis::new(
            Some(self.stripe_api.clone()),
            Some(self.mollie_api.clone()),
            self.public_url.clone(),
        )
    }
}

#[derive(Debug, Subcommand)]
enum ShopCommand {
    /// Create a shop and print its id.
    Create {
        #[arg(long)]
        name: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let db = Db::connect(&cli.database_url).await.context("opening the database")?;
    match cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            rate_per_second,
            rate_burst,
            quota_events,
            quota_bytes,
            reminders,
            pay,
        } => {
            let (dispatcher, payments) = match reminders.config()? {
                Some(cfg) => {
                    let lease = Duration::from_secs(reminders.claim_lease_secs.max(1));
                    let d = std::sync::Arc::new(
                        Dispatcher::new(db.clone(), cfg)?.with_claim_lease(lease).with_pay_apis(pay.apis()),
                    );
                    let task = std::sync::Arc::clone(&d)
                        .spawn(Duration::from_secs(reminders.every_secs.max(1)), || {
                            chrono::Local::now().fixed_offset()
                        });
                    (Some(task), Some(d))
                }
                None => (None, None),
            };
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
                _ => None,
            };
            let listener =
                tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
            let config = ServeConfig {
                tls,
                rate: RateLimit { per_second: rate_per_second, burst: rate_burst },
                quota: Quota { events_per_day: quota_events, bytes_stored: quota_bytes },
                dispatcher: payments,
            };
            let serving = ardoise_server::serve(listener, db, config).await?;
            let stopper = serving.stopper();
            tokio::spawn(async move {
                stop_signal().await;
                tracing::info!("stopping");
                stopper.stop(Duration::from_secs(10));
            });
            serving.wait().await?;
            if let Some(task) = dispatcher {
                task.abort();
            }
        }
        Command::Shop { command: ShopCommand::Create { name } } => println!("{}", db.create_shop(&name).await?),
        Command::EnrolCode { shop, ttl_hours } => {
            if ttl_hours == 0 {
                bail!("--ttl-hours must be at least 1");
            }
            println!("{}", db.enrol_code(shop, chrono::Duration::hours(i64::from(ttl_hours))).await?);
        }
        Command::ReplaceDevice { shop, device, ttl_hours } => {
            if ttl_hours == 0 {
                bail!("--ttl-hours must be at least 1");
            }
            let code = db.replace_device(shop, device, chrono::Duration::hours(i64::from(ttl_hours))).await?;
            eprintln!("revoked {device}; this code enrols only that device id:");
            println!("{code}");
        }
        Command::Revoke { device } => {
            db.revoke(device).await?;
            println!("revoked {device}");
        }
        Command::Devices { shop } => {
            for d in db.devices(shop).await? {
                let state = match d.revoked_at {
                    Some(at) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                    None => "active".to_owned(),
                };
                let seen =
                    d.last_seen_at.map_or_else(|| "never".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string());
                println!(
                    "{}\t{}\tnext seq {}\tenrolled {}\tseen {}\t{}",
                    d.id,
                    d.name,
                    d.expected_seq,
                    d.enrolled_at.format("%Y-%m-%d %H:%M"),
                    seen,
                    state
                );
            }
        }
        Command::Rejections { shop, limit } => {
            for r in db.rejections(shop, limit).await? {
                println!("{}\t{}\tseq {}\t{}\t{}", r.at.format("%Y-%m-%d %H:%M"), r.device, r.seq, r.kind, r.reason);
            }
        }
        Command::NewEpoch { shop } => println!("{}", db.new_epoch(shop).await?),
        Command::Stripe { shop, secret_key_env, webhook_secrets_env } => {
            // Secrets come from the environment, never the command line (it shows in `ps` and
            // in shell histories), and are never printed.
            let key = std::env::var(&secret_key_env).with_context(|| format!("${secret_key_env} is not set"))?;
            let secrets: Vec<String> = std::env::var(&webhook_secrets_env)
                .with_context(|| format!("${webhook_secrets_env} is not set"))?
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if !key.starts_with("sk_") && !key.starts_with("rk_") || secrets.iter().any(|s| !s.starts_with("whsec_")) {
                anyhow::bail!("expected a key sk_... (or rk_...) and webhook secrets whsec_...");
            }
            db.shop(shop).await?;
            db.set_payment_provider(shop, "stripe", &key, &secrets).await?;
            println!("{shop}\tStripe set ({} webhook secret(s)); webhook URL: /v1/pay/stripe/{shop}", secrets.len());
        }
        Command::Bank { command } => bank(db, command).await?,
        Command::Mollie { shop, api_key_env } => {
            let key = std::env::var(&api_key_env).with_context(|| format!("${api_key_env} is not set"))?;
            if !key.starts_with("live_") && !key.starts_with("test_") {
                anyhow::bail!("expected a Mollie API key live_... or test_...");
            }
            db.shop(shop).await?;
            // No webhook secret: Mollie signs nothing, each hint is checked with its API.
            db.set_payment_provider(shop, "mollie", &key, &[]).await?;
            println!("{shop}\tMollie set; webhook URL: /v1/pay/mollie/{shop}");
        }
        Command::PayLink { shop, customer, data_dir, pay } => {
            let dispatcher = Dispatcher::new(db, offline_dispatch(data_dir)?)?.with_pay_apis(pay.apis());
            let (session, amount) =
                dispatcher.payment_session(shop, &customer, chrono::Local::now().fixed_offset()).await?;
            eprintln!("{customer}: {amount} EUR, session {}", session.id);
            println!("{}", session.url);
        }
        Command::User { command: UserCommand::Add { shop, email, language, ttl_hours, base_url } } => {
            let language = if language.eq_ignore_ascii_case("en") { "en" } else { "fr" };
            let ttl = chrono::Duration::hours(i64::from(ttl_hours.max(1)));
            let path = ardoise_server::web::new_setup_link(&db, shop, &email, language, ttl).await?;
            println!("{}{path}", base_url.trim_end_matches('/'));
        }
        Command::PayPage { shop, customer, days, base_url, data_dir, revoke } => {
            if revoke {
                println!("{} payment page(s) ended", db.revoke_pay_pages(shop, &customer).await?);
                return Ok(());
            }
            // Only for a customer the shop's ledger knows.
            let dispatcher = Dispatcher::new(db.clone(), offline_dispatch(data_dir)?)?;
            let who = customer.clone();
            dispatcher.read_merged(shop, chrono::Local::now().fixed_offset(), move |s| s.customer(&who)).await?;
            let ttl = chrono::Duration::days(i64::from(days.max(1)));
            let path = ardoise_server::web::new_pay_link(&db, shop, &customer, ttl).await?;
            println!("{}{path}", base_url.trim_end_matches('/'));
        }
        Command::Payment { shop, customer, amount, method, invoice, date, data_dir } => {
            // Parsed before anything is opened: a typo changes nothing.
            let amount = ardoise_core::Money::parse(&amount).with_context(|| format!("amount {amount:?}"))?;
            let method: ardoise_core::PaymentMethod = method.parse()?;
            let date = date.as_deref().map(ardoise_core::parse_date).transpose()?;
            let dispatcher = Dispatcher::new(db, offline_dispatch(data_dir)?)?;
            let now = chrono::Local::now().fixed_offset();
            let r = dispatcher.record_payment(shop, &customer, amount, method, invoice, date, now).await?;
            println!("{}\tpayment {} EUR recorded\tbalance {} EUR", r.entry.id, amount, r.balance);
        }
        Command::Rates { command: RatesCommand::Set { ecb, legal, checked_through, shop, data_dir } } => {
            let read = |p: &PathBuf| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
            let checked_through = checked_through.as_deref().map(ardoise_core::parse_date).transpose()?;
            // Parsed before any shop is touched: a bad file changes nothing anywhere.
            let rates = ardoise_core::dunning::penalty::RateTables::parse_checked(
                &read(&ecb)?,
                &read(&legal)?,
                checked_through,
            )?;
            let dispatcher = Dispatcher::new(db, offline_dispatch(data_dir)?)?;
            for shop in dispatcher.set_rates(shop, &rates, chrono::Local::now().fixed_offset()).await? {
                println!(
                    "{shop}\trates checked through {}",
                    rates.ecb_checked_through.min(rates.legal_checked_through)
                );
            }
        }
    }
    Ok(())
}

/// The dispatcher of a one-off command (rates, a payment): it writes through the merged copy
/// in `data_dir` and sends nothing.
fn offline_dispatch(data_dir: PathBuf) -> anyhow::Result<DispatchConfig> {
    ReminderArgs {
        no_reminders: false,
        transports: None,
        data_dir,
        grace_minutes: 10,
        every_secs: 60,
        no_ladder: true,
        claim_lease_secs: 300,
    }
    .config()?
    .context("the dispatcher's configuration")
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `ardoise-server bank ...`: every action on a shop's merged copy, its result printed.
async fn bank(db: Db, command: BankCommand) -> anyhow::Result<()> {
    use ardoise_core::bank::{Line, LineState};
    let now = chrono::Local::now().fixed_offset();
    let print = |l: &Line, json: bool| -> anyhow::Result<()> {
        if json {
            println!("{}", serde_json::to_string_pretty(l)?);
        } else {
            let who = l.customer.as_deref().or(l.suggestions.first().map(|s| s.customer.as_str())).unwrap_or("");
            let why = l.why.as_deref().unwrap_or("");
            println!(
                "{}\t{}\t{} EUR\t{who}\t{}\t{why}",
                l.state.as_str(),
                l.transaction,
                l.amount,
                l.invoices.join(",")
            );
        }
        Ok(())
    };
    match command {
        BankCommand::Import { shop, file, mapping, json, data_dir } => {
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let mapping = mapping
                .map(|p| std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display())))
                .transpose()?;
            // Read and checked whole before the shop is touched.
            let (_, statements) = ardoise_core::bank::read_with_mapping(&bytes, mapping.as_deref())
                .with_context(|| format!("{}", file.display()))?;
            let dispatcher = Dispatcher::new(db, offline_dispatch(data_dir)?)?;
            let r = dispatcher.import_statements(shop, &statements, now).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
                return Ok(());
            }
            for l in r.applied.iter().chain(&r.suggested).chain(&r.unmatched) {
                print(l, false)?;
            }
            println!(
                "{} imported ({} applied, {} suggested, {} unmatched), {} already imported",
                r.imported,
                r.applied.len(),
                r.suggested.len(),
                r.unmatched.len(),
                r.duplicates
            );
        }
        BankCommand::List { shop, state, limit, json, data_dir } => {
            let state = state
                .map(|s| {
                    LineState::parse(&s).with_context(|| format!("state {s:?}: use applied, suggested or unmatched"))
                })
                .transpose()?;
            let dispatcher = Dispatcher::new(db, offline_dispatch(data_dir)?)?;
            let lines = dispatcher.bank_lines(shop, state, limit, now).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&lines)?);
            } else {
                for l in &lines {
                    print(l, false)?;
                }
            }
        }
        BankCommand::Confirm { shop, transaction, customer, invoice, by, json, data_dir } => {
            let dispatcher = Dispatcher::new(db, offline_dispatch(data_dir)?)?;
            print(&dispatcher.confirm_bank_match(shop, transaction, customer, invoice, by, now).await?, json)?;
        }
        BankCommand::Undo { shop, transaction, by, json, data_dir } => {
            let dispatcher = Dispatcher::new(db, offline_dispatch(data_dir)?)?;
            print(&dispatcher.undo_bank_match(shop, transaction, by, now).await?, json)?;
        }
    }
    Ok(())
}
