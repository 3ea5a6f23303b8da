//! The shop's reminder settings through the store: ladders, templates and penalty rate tables,
//! read over the shipped defaults and replaced as settings rows that every device receives.

use serde::Serialize;

use crate::dunning::ladder::Ladder;
use crate::dunning::penalty::RateTables;
use crate::dunning::template::Template;
use crate::error::{Error, Result};
use crate::store::db::settings;
use crate::store::db::values::Now;
use crate::store::handle::Store;
use crate::store::reminders::config;
use crate::store::sync::replica::{Key, Table};

impl Store {
    /// The names of the shop's ladders ("default" first).
    pub fn ladder_names(&self) -> Result<Vec<String>> {
        let config = self.read(config::load)?;
        let mut names: Vec<String> = config.ladders.into_keys().collect();
        names.sort_by_key(|n| (n != "default", n.clone()));
        Ok(names)
    }

    /// The ladder by name ("default" unless the shop made others).
    pub fn ladder(&self, name: &str) -> Result<Ladder> {
        let config = self.read(config::load)?;
        config.ladders.get(name).cloned().ok_or_else(|| Error::NotFound { what: "ladder", id: name.to_owned() })
    }

    pub fn set_ladder(&self, ladder: Ladder, now: Now) -> Result<()> {
        let config = self.read(config::load)?;
        ladder.validate(|t| config.templates.keys().any(|(n, _)| n == t))?;
        self.put_setting(&format!("ladder:{}", ladder.name), &ladder, now)
    }

    pub fn templates(&self) -> Result<Vec<Template>> {
        let config = self.read(config::load)?;
        let mut all: Vec<Template> = config.templates.into_values().collect();
        all.sort_by(|a, b| (&a.name, a.language).cmp(&(&b.name, b.language)));
        Ok(all)
    }

    /// Saves a template; an unknown placeholder is refused here, not when a reminder is sent.
    pub fn set_template(&self, template: Template, now: Now) -> Result<()> {
        template.validate()?;
        let key = format!("template:{}:{}", template.name, template.language.as_str());
        self.put_setting(&key, &template, now)
    }

    pub fn rate_tables(&self) -> Result<RateTables> {
        Ok(self.read(config::load)?.rates)
    }

    /// Replaces the penalty rate tables (CSV as in `shared/reference/`, each with its
    /// `# checked_through:` line), without a release.
    pub fn set_rate_tables(&self, ecb_csv: &str, legal_csv: &str, now: Now) -> Result<RateTables> {
        let rates = RateTables::parse(ecb_csv, legal_csv)?;
        self.set_rates(&rates, now)?;
        Ok(rates)
    }

    /// Replaces the penalty rate tables. Every reminder not yet sent is written again from
    /// them in the same unit of work: a held one whose half-year they now cover is queued.
    /// Tables checked less recently than those in use are refused: rates are public facts,
    /// and an older copy could only be missing a change.
    pub fn set_rates(&self, rates: &RateTables, now: Now) -> Result<()> {
        let current = self.rate_tables()?;
        let checked = |t: &RateTables| t.ecb_checked_through.min(t.legal_checked_through);
        if checked(rates) < checked(&current) {
            return Err(Error::Invalid {
                field: "rate table",
                reason: format!(
                    "these tables were checked through {}, before the ones in use ({}): nothing was changed",
                    checked(rates),
                    checked(&current)
                ),
            });
        }
        self.write(now, |w| {
            settings::put(w.conn(), "rates", rates)?;
            w.row(Table::Settings, Key::Text("rates".to_owned()))?;
            let waiting: Vec<i64> = w
                .conn()
                .prepare_cached("SELECT DISTINCT customer_id FROM reminders WHERE state IN ('queued', 'held')")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for customer in waiting {
                w.touch(customer);
            }
            Ok(())
        })
    }

    fn put_setting(&self, key: &str, value: &impl Serialize, now: Now) -> Result<()> {
        self.write(now, |w| {
            settings::put(w.conn(), key, value)?;
            w.row(Table::Settings, Key::Text(key.to_owned()))
        })
    }
}
