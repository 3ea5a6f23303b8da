//! The README's Swift and Kotlin code blocks are the files the Swift and Kotlin suites compile
//! and run (`ios/Tests/ArdoiseTests/Readme.swift`, `android/src/test/kotlin/com/example/till/Readme.kt`),
//! so the README cannot show code that no longer builds.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The code blocks of `lang` in the README, in order.
fn blocks(lang: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let fence = format!("```{lang}");
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match &mut current {
            None if line.trim_end() == fence => current = Some(String::new()),
            Some(block) if line.trim_end() == "```" => {
                found.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "an unclosed {fence} block in README.md");
    found
}

fn same_as_file(lang: &str, file: &str) {
    let blocks = blocks(lang);
    assert_eq!(blocks.len(), 1, "README.md should have exactly one {lang} block, the one {file} holds");
    let compiled = std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(
        blocks[0] == compiled,
        "README.md's {lang} block differs from {file}, which the {lang} suite compiles and runs: copy one onto the other"
    );
}

#[test]
fn the_readme_kotlin_is_the_file_the_jvm_suite_runs() {
    same_as_file("kotlin", "android/src/test/kotlin/com/example/till/Readme.kt");
}

#[test]
fn the_readme_swift_is_the_file_the_xctest_suite_runs() {
    same_as_file("swift", "ios/Tests/ArdoiseTests/Readme.swift");
}
