//! The shop's reminder configuration as stored: its ladders, templates and rate tables (each a
//! settings row), over the shipped defaults.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::dunning::daily::Config;
use crate::dunning::ladder::Ladder;
use crate::dunning::penalty::RateTables;
use crate::dunning::template::{self, Language, Template};
use crate::error::Result;
use crate::store::db::settings;

pub(in crate::store) fn load(conn: &Connection) -> Result<Config> {
    let shop = settings::load_shop(conn)?;
    let mut ladders = HashMap::new();
    ladders.insert("default".to_owned(), Ladder::default_french());
    let mut templates: HashMap<(String, Language), Template> =
        template::defaults().into_iter().map(|t| ((t.name.clone(), t.language), t)).collect();
    let mut rates = RateTables::default();
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM settings WHERE key LIKE 'ladder:%' OR key LIKE 'template:%' OR key = 'rates'",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (key, value) = row?;
        if key == "rates" {
            // Rates are public facts, not the shop's choice: the shop's tables serve unless
            // those shipped with this release were checked later (an app update after a
            // `rates set`).
            let stored: RateTables = serde_json::from_str(&value)?;
            let checked = |t: &RateTables| t.ecb_checked_through.min(t.legal_checked_through);
            if checked(&stored) >= checked(&rates) {
                rates = stored;
            }
        } else if key.starts_with("ladder:") {
            let l: Ladder = serde_json::from_str(&value)?;
            ladders.insert(l.name.clone(), l);
        } else {
            let t: Template = serde_json::from_str(&value)?;
            templates.insert((t.name.clone(), t.language), t);
        }
    }
    Ok(Config { shop, ladders, templates, rates })
}
