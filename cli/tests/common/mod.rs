//! The harness every end-to-end test file shares: the `ardoise` binary on a fresh database in
//! a temporary directory, with helpers for JSON output and clean failures.

// Each test file uses its own part of the harness.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_ardoise");

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_in(db: &Path, args: &[&str]) -> Out {
    let out =
        Command::new(BIN).arg("--db").arg(db).args(args).env("USER", "anna").output().expect("the ardoise binary runs");
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!out.stderr.contains("panicked"), "ardoise {args:?} panicked: {}", out.stderr);
    out
}

/// A till on its own database.
#[derive(Debug)]
pub struct Till {
    _dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Till {
    pub fn new() -> Till {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("till.db");
        Till { _dir: dir, db }
    }

    pub fn run(&self, args: &[&str]) -> Out {
        run_in(&self.db, args)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.code, 0, "ardoise {args:?} failed: {}", out.stderr);
        out.stdout
    }

    /// Runs with `--json`, expects success, returns the parsed output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let stdout = self.ok(&all);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("ardoise {args:?}: not JSON ({e}): {stdout}"))
    }

    /// Expects exit code 1 with `error: ...` mentioning `words`; returns stderr.
    pub fn fails(&self, args: &[&str], words: &str) -> String {
        let out = self.run(args);
        assert_eq!(out.code, 1, "ardoise {args:?} should fail with code 1: {out:?}");
        assert!(out.stderr.starts_with("error: "), "ardoise {args:?}: {}", out.stderr);
        assert!(out.stderr.contains(words), "ardoise {args:?}: expected {words:?} in {}", out.stderr);
        out.stderr
    }

    pub fn add(&self, reference: &str, name: &str, extra: &[&str]) {
        let mut args = vec!["customer", "add", "--ref", reference, "--name", name];
        args.extend_from_slice(extra);
        self.ok(&args);
    }

    pub fn show(&self, reference: &str, date: &str) -> Value {
        self.json(&["customer", "show", reference, "--date", date])
    }

    /// Everything a write could change about a customer: the account and the full timeline.
    pub fn snapshot(&self, reference: &str) -> (Value, Value, Value) {
        (
            self.show(reference, "2026-03-20"),
            self.json(&["timeline", "--customer", reference, "--limit", "1000"]),
            self.json(&["customer", "list"]),
        )
    }
}
