//! The one check every free-text field passes, at the till and when an event arrives from
//! another device: what a till would refuse to write, no device accepts from the network.

use crate::error::{Error, Result};

/// A free-text field as it may be stored: trimmed, 1 to `max` characters, no control
/// character (a line break in a name would break every table and letter it is printed in).
pub(crate) fn text(field: &'static str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Error::Invalid { field, reason: format!("must be 1 to {max} printable characters") });
    }
    Ok(v.to_owned())
}

/// Longer free text (a note, a reason): like [`text`], but it may run over several lines.
pub(crate) fn prose(field: &'static str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    let allowed = |c: char| !c.is_control() || c == '\n' || c == '\t' || c == '\r';
    if v.is_empty() || v.chars().count() > max || !v.chars().all(allowed) {
        return Err(Error::Invalid { field, reason: format!("must be 1 to {max} characters") });
    }
    Ok(v.to_owned())
}
