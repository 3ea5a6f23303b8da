//! `ardoise check` (or `doctor`): what is wrong with a till database, found without changing it.

use ardoise_core::store::{CheckReport, check_database};
use clap::Args;

use crate::output::{self, Failure, say};
use crate::till::Ctx;

#[derive(Debug, Args)]
pub struct CheckArgs {}

/// Prints what was found; a damaged database fails the command, so that a script or a
/// support call sees it in the exit code.
pub fn run(ctx: &Ctx, _: CheckArgs) -> Result<(), Failure> {
    let path = ctx.db_path();
    if !path.exists() {
        return Err(ctx.missing());
    }
    let report = check_database(path)?;
    if ctx.json {
        output::print_json(&report)?;
    } else {
        say!("{}", report_text(&report));
    }
    if report.ok {
        return Ok(());
    }
    let problems = report.integrity.len() + report.foreign_keys.len() + report.audit.len();
    Err(Failure::new(
        "check_failed",
        format!(
            "{} is damaged: {}; keep a copy of the file before anything else touches it",
            report.path,
            output::count(problems, "problem", "problems")
        ),
    )
    .printed())
}

fn report_text(r: &CheckReport) -> String {
    let mut s = format!("Database {} (schema version {})\n", r.path, r.schema_version);
    for (what, found) in [
        ("File structure (SQLite integrity check)", &r.integrity),
        ("References between rows (foreign keys)", &r.foreign_keys),
        ("Accounts against the ledger (audit)", &r.audit),
    ] {
        if found.is_empty() {
            s.push_str(&format!("{what}: OK\n"));
        } else {
            s.push_str(&format!("{what}: {}\n", output::count(found.len(), "problem", "problems")));
            for f in found {
                s.push_str(&format!("  - {f}\n"));
            }
        }
    }
    for n in &r.notes {
        s.push_str(&format!("Note: {n}\n"));
    }
    s.push_str(if r.ok { "OK: nothing is wrong." } else { "NOT OK: see the problems above." });
    s
}
