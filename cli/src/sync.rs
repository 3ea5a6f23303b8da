//! `ardoise enrol` and `ardoise sync [status]`: this till and the shop's back office. The
//! protocol, retries and merging live in `ardoise_core::sync`; this runs the client on a small
//! tokio runtime and prints what it did. A failed sync loses nothing: the events wait here.

use std::path::Path;
use std::sync::Mutex;

use ardoise_core::store::SyncStatus;
use ardoise_core::sync::client::{Client, RetryPolicy, SyncReport};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::output::{self, Failure, say};
use crate::till::Ctx;

#[derive(Debug, Args)]
pub struct EnrolArgs {
    /// The back office, https://host[:port] (plain http only on this machine)
    #[arg(long, value_name = "URL")]
    server: String,
    /// The one-time code the shop's admin printed (`ardoise-server enrol-code`)
    #[arg(long)]
    code: String,
    /// This till's name in the admin's list of devices [default: "ardoise CLI (FILE)"]
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncArgs {
    #[command(subcommand)]
    command: Option<SyncCmd>,
}

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// Whether this till is enrolled, when it last synced, what waits, and whether it is stuck
    Status,
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new("runtime", format!("could not start the network runtime: {e}")))
}

fn client() -> Result<Client, Failure> {
    Ok(Client::new(RetryPolicy::default())?)
}

fn now() -> ardoise_core::Now {
    chrono::Local::now().fixed_offset()
}

#[derive(Serialize)]
struct EnrolJson<'a> {
    shop_id: String,
    server_url: &'a str,
    waiting: u64,
}

/// Enrolling is how a new till starts, so it creates the database; a failed enrolment leaves
/// no new empty file behind.
pub fn enrol(ctx: &Ctx, a: EnrolArgs) -> Result<(), Failure> {
    let path = ctx.db_path();
    let existed = path.exists();
    let store = Mutex::new(ctx.create_store()?);
    let name = a.name.unwrap_or_else(|| {
        let file = path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into_owned());
        format!("ardoise CLI ({file})")
    });
    let enrolled = runtime()?.block_on(client()?.enrol(&store, &a.server, &a.code, &name, now()));
    let store = store.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    let e = match enrolled {
        Ok(e) => e,
        Err(err) => {
            drop(store);
            if !existed {
                remove_database(path);
            }
            return Err(err.into());
        }
    };
    let waiting = store.sync_status()?.waiting;
    if ctx.json {
        return output::print_json(&EnrolJson { shop_id: e.shop_id.to_string(), server_url: &e.server_url, waiting });
    }
    say!("Enrolled in shop {} at {}.", e.shop_id, e.server_url);
    say!(
        "Run `ardoise sync` to push {} recorded here and pull the shop's customers and accounts.",
        output::count(waiting as usize, "event", "events")
    );
    Ok(())
}

fn remove_database(path: &Path) {
    let _ = std::fs::remove_file(path);
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

pub fn run(ctx: &Ctx, a: SyncArgs) -> Result<(), Failure> {
    match a.command {
        Some(SyncCmd::Status) => {
            let status = ctx.store()?.sync_status()?;
            if ctx.json {
                return output::print_json(&status);
            }
            say!("{}", status_table(&status));
            Ok(())
        }
        None => sync(ctx),
    }
}

fn sync(ctx: &Ctx) -> Result<(), Failure> {
    let store = Mutex::new(ctx.store()?);
    let outcome = runtime()?.block_on(client()?.sync(&store, &now));
    let report = match outcome {
        Ok(r) => r,
        Err(ardoise_core::Error::NotEnrolled) => {
            let mut f = Failure::from(ardoise_core::Error::NotEnrolled);
            f.message.push_str("\nenrol it first: ardoise enrol --server URL --code CODE");
            return Err(f);
        }
        Err(e) => {
            let mut f = Failure::from(e);
            // The client recorded the failure; say what waits, and for how many tries.
            if let Ok(s) = store.lock().unwrap_or_else(std::sync::PoisonError::into_inner).sync_status() {
                f.message.push_str(&format!(
                    "\n{} kept here for the next sync; {} in a row{}",
                    output::count(s.waiting as usize, "event", "events"),
                    output::count(s.failures as usize, "failed sync", "failed syncs"),
                    if s.stuck { " (stuck: check the network and the server)" } else { "" },
                ));
            }
            return Err(f);
        }
    };
    if ctx.json {
        return output::print_json(&report);
    }
    say!("{}", report_line(&report));
    say!("{}", status_table(&report.status));
    Ok(())
}

fn report_line(r: &SyncReport) -> String {
    let mut s = format!(
        "Synced: pushed {}, pulled {}, applied {}.",
        output::count(r.pushed as usize, "event", "events"),
        output::count(r.pulled as usize, "change", "changes"),
        r.applied
    );
    if r.rejected > 0 {
        s.push_str(&format!(
            " The server refused {} (kept here; see `ardoise sync status`).",
            output::count(r.rejected as usize, "event", "events")
        ));
    }
    if r.epoch_reset {
        s.push_str(" The server was restored from a backup: this till sent its history again.");
    }
    s
}

fn status_table(s: &SyncStatus) -> comfy_table::Table {
    let when =
        |t: &Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map_or_else(|| "never".to_owned(), output::local_time);
    let mut failures = s.failures.to_string();
    if s.stuck {
        failures.push_str(" (STUCK: check the network and the server)");
    }
    let mut rows = vec![
        (
            "enrolled",
            if s.enrolled { "yes".to_owned() } else { "no (ardoise enrol --server URL --code CODE)".to_owned() },
        ),
        ("server", s.server_url.clone().unwrap_or_else(|| "-".into())),
        ("shop", s.shop_id.map_or_else(|| "-".into(), |id| id.to_string())),
        ("last success", when(&s.last_success)),
        ("last attempt", when(&s.last_attempt)),
        ("waiting", output::count(s.waiting as usize, "event", "events")),
        ("failures in a row", failures),
    ];
    if let Some(e) = &s.last_error {
        rows.push(("last error", e.clone()));
    }
    if s.rejected > 0 {
        rows.push(("refused by the server", output::count(s.rejected as usize, "event", "events")));
    }
    if s.parked > 0 {
        rows.push(("waiting for what they refer to", output::count(s.parked as usize, "event", "events")));
    }
    if s.set_aside > 0 {
        rows.push(("set aside (cannot apply here)", output::count(s.set_aside as usize, "event", "events")));
    }
    rows.push(("shop changes applied up to", s.cursor.to_string()));
    output::fields(&rows)
}

/// The offline rules, for `shop show`.
pub fn offline_rows(rules: &ardoise_core::CheckoutRules) -> [(&'static str, String); 2] {
    [
        ("offline after", output::count(rules.offline_after_hours as usize, "hour without sync", "hours without sync")),
        ("offline allowance", format!("{} EUR per customer", rules.offline_allowance)),
    ]
}
