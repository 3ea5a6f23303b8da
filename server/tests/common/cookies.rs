//! The cookies of a browser without JavaScript, for the web tests and the web bench: kept by
//! name from each answer's `Set-Cookie`, sent back with each request.

use std::collections::HashMap;

#[derive(Clone, Debug, Default)]
pub struct Jar(HashMap<String, String>);

impl Jar {
    /// Keeps what the answer sets; an empty value (a sign-out) removes the cookie.
    pub fn keep(&mut self, r: &reqwest::Response) {
        for c in r.headers().get_all("set-cookie") {
            let Ok(c) = c.to_str() else { continue };
            let pair = c.split(';').next().unwrap_or(c);
            let Some((k, v)) = pair.split_once('=') else { continue };
            if v.is_empty() {
                self.0.remove(k);
            } else {
                self.0.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    /// The `Cookie` header a browser sends.
    pub fn header(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
}

/// The cookies themselves, by name: a test may look at one or forge one.
impl std::ops::Deref for Jar {
    type Target = HashMap<String, String>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Jar {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}
