//! docs/sync-openapi.yaml lists exactly the routes the server serves, with their methods: a
//! route added to the router (`server/src/app.rs`) without its description, or a description
//! left for a route removed, fails here. (What each route answers is schemathesis' part:
//! server/tests/schemathesis.sh.)

use std::collections::BTreeSet;

fn served() -> BTreeSet<(String, String)> {
    let app = include_str!("../src/app.rs");
    let mut out = BTreeSet::new();
    for line in app.lines().map(str::trim).filter(|l| l.starts_with(".route(\"")) {
        let path = line.split('"').nth(1).unwrap().to_owned();
        let methods = line.split_once(',').unwrap().1;
        for m in ["get", "post", "put", "patch", "delete"] {
            if methods.contains(&format!("{m}(")) {
                out.insert((m.to_owned(), path.clone()));
            }
        }
    }
    out
}

fn documented() -> BTreeSet<(String, String)> {
    let spec = include_str!("../../docs/sync-openapi.yaml");
    let mut out = BTreeSet::new();
    let mut in_paths = false;
    let mut path = None;
    for line in spec.lines() {
        if !line.starts_with(' ') {
            in_paths = line == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /") {
            path = Some(format!("/{}", p.trim_end_matches(':')));
        } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')) {
            if !m.starts_with(' ') {
                out.insert((m.to_owned(), path.clone().unwrap()));
            }
        }
    }
    out
}

#[test]
fn the_openapi_lists_exactly_the_routes_served() {
    let served = served();
    assert!(served.contains(&("post".into(), "/v1/pay/stripe/{shop}".into())), "{served:?}");
    assert!(served.len() >= 7, "{served:?}");
    assert_eq!(documented(), served);
}
