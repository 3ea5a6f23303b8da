//! No module imports another in a circle in the folders listed here: a circle means no layer
//! can be read, tested or changed without the others. Add a folder with one line.

use std::path::Path;

use ardoise_tests::modules::{cycles, import_graph, render, tangles};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Fails naming every circle; prints the graph (seen with `--no-capture`).
fn layered(folder: &str) {
    let graph = import_graph(&root().join(folder));
    println!("{folder}:\n{}", render(&graph));
    let found = cycles(&graph);
    let shown: Vec<String> = tangles(&graph)
        .iter()
        .zip(&found)
        .map(|(group, circle)| {
            let group: Vec<&str> = group.iter().map(String::as_str).collect();
            format!("{} (one circle: {})", group.join(", "), circle.join(" -> "))
        })
        .collect();
    assert!(found.is_empty(), "modules of {folder} that import each other in a circle:\n{}", shown.join("\n"));
}

#[test]
fn the_server_is_layered() {
    layered("server/src");
}

#[test]
fn the_store_is_layered() {
    layered("core/src/store");
}
