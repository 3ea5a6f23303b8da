//! What every command shares: the database it opens, who is at the till, and the clock.

use std::path::{Path, PathBuf};

use ardoise_core::{Error, Money, Now, Store, Uuid};
use chrono::{Local, NaiveDate, NaiveTime, Offset, TimeZone};
use clap::Args;

use crate::output::Failure;

/// Where the database lives when `--db` is not given.
pub const DEFAULT_DB: &str = "ardoise.db";

/// The global options, resolved once.
#[derive(Debug)]
pub struct Ctx {
    pub db: Option<PathBuf>,
    pub json: bool,
    pub cashier: String,
}

impl Ctx {
    pub fn db_path(&self) -> &Path {
        self.db.as_deref().unwrap_or(Path::new(DEFAULT_DB))
    }

    /// Opens the database, creating it: only for commands that start a shop (adding a customer).
    pub fn create_store(&self) -> Result<Store, Failure> {
        Ok(Store::open(self.db_path())?)
    }

    /// Opens an existing database. A mistyped `--db` must not leave a new empty file behind, nor
    /// answer "unknown customer" when the real problem is the path.
    pub fn store(&self) -> Result<Store, Failure> {
        if !self.db_path().exists() {
            return Err(self.missing());
        }
        self.create_store()
    }

    /// The failure for a `--db` that names no file.
    pub fn missing(&self) -> Failure {
        let path = self.db_path();
        Failure::new(
            "no_database",
            format!(
                "no database at {} (add a customer to create one, or run `ardoise demo --db {}`)",
                path.display(),
                path.display()
            ),
        )
    }
}

/// The cashier recorded on entries when `--cashier` is not given.
pub fn default_cashier() -> String {
    std::env::var("USER").ok().map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()).unwrap_or_else(|| "till".into())
}

/// `--date`, on every command that records or decides.
#[derive(Debug, Clone, Args)]
pub struct When {
    /// Business date, YYYY-MM-DD [default: today]; not in the future
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
}

impl When {
    /// The business date to pass to the core (`None`: today) and the `now` of the write.
    pub fn resolve(&self) -> Result<(Option<NaiveDate>, Now), Failure> {
        let date = self.date.as_deref().map(ardoise_core::parse_date).transpose()?;
        Ok((date, now_for(date)?))
    }

    /// The day a read is "as of".
    pub fn today(&self) -> Result<NaiveDate, Failure> {
        Ok(self.resolve()?.1.date_naive())
    }
}

/// Now, or `date` at the current time of day: the core takes its business date from `now`, so a
/// replayed day must carry that date. The core cannot tell a future `--date` from the real
/// clock once `now` is moved, so the check is made here.
pub fn now_for(date: Option<NaiveDate>) -> Result<Now, Error> {
    let now = Local::now();
    let Some(date) = date else { return Ok(now.fixed_offset()) };
    let today = now.date_naive();
    if date > today {
        return Err(Error::Invalid { field: "date", reason: format!("{date} is in the future (today is {today})") });
    }
    Ok(local_at(date, now.time()))
}

/// `date` at `time` on the local clock, in the offset in force that day (summer or winter time).
pub fn local_at(date: NaiveDate, time: NaiveTime) -> Now {
    let naive = date.and_time(time);
    match Local.from_local_datetime(&naive).earliest() {
        Some(t) => t.fixed_offset(),
        // The hour skipped when clocks go forward: keep the wall time in today's offset.
        None => {
            let offset = Local::now().offset().fix();
            chrono::DateTime::from_naive_utc_and_offset(naive - offset, offset)
        }
    }
}

/// Parses an amount strictly ("12.50"; never "1,50" or "12.345").
pub fn money(input: &str) -> Result<Money, Failure> {
    Ok(Money::parse(input).map_err(Error::from)?)
}

/// Parses a date strictly (YYYY-MM-DD). Unlike `--date`, the dates of agreements (a promise, a
/// plan's instalments, a hold) and of calculations may lie in the future.
pub fn date(input: &str) -> Result<NaiveDate, Failure> {
    Ok(ardoise_core::parse_date(input)?)
}

/// Who records a follow-up (a note, a call, a dispute...) and on which business date.
#[derive(Debug, Clone, Args)]
pub struct Recorder {
    /// Who did it, kept with the follow-up [default: the global --cashier]
    #[arg(long, value_name = "NAME")]
    pub author: Option<String>,
    #[command(flatten)]
    pub when: When,
}

impl Recorder {
    /// The author and the `now` of the write.
    pub fn resolve(&self, ctx: &Ctx) -> Result<(String, Now), Failure> {
        let (_, now) = self.when.resolve()?;
        Ok((self.author.clone().unwrap_or_else(|| ctx.cashier.clone()), now))
    }
}

/// What an id on the command line names, for its error messages and codes.
#[derive(Debug, Clone, Copy)]
pub enum IdOf {
    Entry,
    Reminder,
    Dispute,
}

impl IdOf {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            IdOf::Entry => ("entry", "entries"),
            IdOf::Reminder => ("reminder", "reminders"),
            IdOf::Dispute => ("dispute", "disputes"),
        }
    }

    fn codes(self) -> (&'static str, &'static str) {
        match self {
            IdOf::Entry => ("unknown_entry", "ambiguous_entry"),
            IdOf::Reminder => ("unknown_reminder", "ambiguous_reminder"),
            IdOf::Dispute => ("unknown_dispute", "ambiguous_dispute"),
        }
    }
}

/// The one id among `ids` that `wanted` names: in full, or by a unique start or end of at least
/// four characters. Tables show ids shortened, and nobody should have to type 36 of them. Entry
/// ids are time-ordered (UUIDv7), so ids written in the same minute share their start; their end
/// is random, which is why tables show the end.
pub fn find_id(wanted: &str, ids: impl IntoIterator<Item = Uuid>, of: IdOf) -> Result<Uuid, Failure> {
    let wanted = wanted.trim().to_ascii_lowercase();
    let (unknown, ambiguous) = of.codes();
    let (one, many) = of.names();
    let not_found = || Failure::new(unknown, format!("unknown {one} {wanted:?}"));
    if wanted.len() < 4 {
        return Err(not_found());
    }
    let matches: Vec<Uuid> = ids
        .into_iter()
        .filter(|id| {
            let (full, simple) = (id.to_string(), id.simple().to_string());
            full.starts_with(&wanted) || simple.starts_with(&wanted) || full.ends_with(&wanted)
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(not_found()),
        _ => Err(Failure::new(
            ambiguous,
            format!("{wanted:?} is part of the ids of {} {many}; give more of it", matches.len()),
        )),
    }
}

/// The last characters of an id, as tables show it: random in every kind of id (see `find_id`).
pub fn short_id(id: Uuid) -> String {
    let s = id.simple().to_string();
    s[s.len() - 8..].to_owned()
}
