//! Which module of a source folder uses which, and the circles among them: the check that keeps
//! a folder layered (`tests/module_cycles.rs` runs it on `server/src`).
//!
//! A light reader, not a compiler: it follows the `mod x;` declarations from the folder's root
//! file (`lib.rs`, else `main.rs`, else `mod.rs` or the `folder.rs` beside it), and counts as a
//! dependency every path that names a module of the folder: `use` trees and paths in code that
//! start with `crate::`, `super::`, `self::`, a child module or a name brought in by `use`. Each
//! file is one node (an inline `mod tests { .. }` belongs to its file). A parent that declares a
//! child (`mod x;`) does not depend on it by that alone; one that uses its items does. Paths
//! that leave the folder are ignored, so a circle through a module outside it is not seen.
//! What it cannot resolve it leaves out, so it may miss an edge (a method defined in an `impl`
//! of another module, a glob-imported child module) but never invents one.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// For each module of the folder (named from the crate root without `crate::`, the root
/// itself as `crate`), the other modules of the folder it uses.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// The folder's module graph. Panics on a folder without a root file or a declared module
/// without its file: a check that silently read half a folder would pass for the wrong reason.
pub fn import_graph(dir: &Path) -> Graph {
    let (root_file, root_path) = root_of(dir);
    let mut files = Vec::new();
    collect(&root_file, &root_path, &mut files);
    let known: BTreeSet<Vec<String>> =
        files.iter().flat_map(|f| f.modules.iter().map(|(path, _)| path.clone())).collect();
    let mut graph = Graph::new();
    for file in &files {
        let from = name(&file.path);
        let targets = graph.entry(from.clone()).or_default();
        for used in &file.uses {
            // The longest prefix that is a module: `crate::db::Db::connect` uses `crate::db`.
            let Some(module) = (1..=used.len()).rev().map(|n| &used[..n]).find(|p| known.contains(*p)) else {
                continue;
            };
            let owner = files.iter().find(|f| f.modules.iter().any(|(path, _)| path == module));
            let to = name(&owner.expect("a known module belongs to a file").path);
            if to != from {
                targets.insert(to);
            }
        }
    }
    graph
}

/// The circles among the folder's modules: for each group of modules that reach one another,
/// one shortest circle through the first of them, as `[a, b, .., a]`. Empty when layered.
pub fn import_cycles(dir: &Path) -> Vec<Vec<String>> {
    cycles(&import_graph(dir))
}

/// [`import_cycles`] on a graph already read.
pub fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    tangles(graph)
        .into_iter()
        .map(|group| {
            let start = group.iter().next().expect("a non-empty group").clone();
            shortest_circle(graph, &group, &start)
        })
        .collect()
}

/// The groups of modules that reach one another (each holds at least one circle).
pub fn tangles(graph: &Graph) -> Vec<BTreeSet<String>> {
    strongly_connected(graph).into_iter().filter(|group| group.len() > 1).collect()
}

/// The graph as text, one module a line: `db::shops -> db`.
pub fn render(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(from, to)| {
            let to: Vec<&str> = to.iter().map(String::as_str).collect();
            if to.is_empty() { format!("{from}\n") } else { format!("{from} -> {}\n", to.join(", ")) }
        })
        .collect()
}

fn name(path: &[String]) -> String {
    if path.len() == 1 { "crate".to_owned() } else { path[1..].join("::") }
}

/// The folder's root file and its module path from the crate root.
fn root_of(dir: &Path) -> (PathBuf, Vec<String>) {
    for file in ["lib.rs", "main.rs"] {
        if dir.join(file).is_file() {
            return (dir.join(file), vec!["crate".to_owned()]);
        }
    }
    // A module folder: its path is the folders between the crate root (the folder with
    // `lib.rs` or `main.rs`) and it.
    let mut path = Vec::new();
    let mut at = dir;
    loop {
        let Some(parent) = at.parent() else {
            panic!("{}: no lib.rs or main.rs above it", dir.display());
        };
        path.push(at.file_name().expect("a folder name").to_string_lossy().into_owned());
        if parent.join("lib.rs").is_file() || parent.join("main.rs").is_file() {
            break;
        }
        at = parent;
    }
    path.push("crate".to_owned());
    path.reverse();
    let root = if dir.join("mod.rs").is_file() { dir.join("mod.rs") } else { dir.with_extension("rs") };
    assert!(root.is_file(), "{}: no mod.rs, and no {} beside it", dir.display(), root.display());
    (root, path)
}

/// One file: its module, the inline modules in it, and the paths it uses (absolute).
#[derive(Debug)]
struct File {
    path: Vec<String>,
    /// This file's module and its inline modules, each with its child modules' names.
    modules: Vec<(Vec<String>, BTreeSet<String>)>,
    uses: Vec<Vec<String>>,
}

fn collect(file: &Path, path: &[String], files: &mut Vec<File>) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let tokens = tokenize(&text);
    let read = read_file(&tokens, path);
    // Children of `a.rs` live in `a/`; those of `mod.rs`, `lib.rs` and `main.rs` beside them.
    let stem = file.file_stem().expect("a file name").to_string_lossy().into_owned();
    let base = if matches!(stem.as_str(), "mod" | "lib" | "main") {
        file.parent().expect("a folder").to_path_buf()
    } else {
        file.with_extension("")
    };
    let mut children = Vec::new();
    for decl in &read.declared {
        let mut dir = base.clone();
        for inline in &decl.inline_path {
            dir.push(inline);
        }
        let found = match &decl.path_attr {
            Some(p) => Some(file.parent().expect("a folder").join(p)),
            None => [dir.join(format!("{}.rs", decl.name)), dir.join(&decl.name).join("mod.rs")]
                .into_iter()
                .find(|f| f.is_file()),
        };
        let found = found
            .filter(|f| f.is_file())
            .unwrap_or_else(|| panic!("{}: module {} declared but its file is not found", file.display(), decl.name));
        let mut child = path.to_vec();
        child.extend(decl.inline_path.iter().cloned());
        child.push(decl.name.clone());
        children.push((found, child));
    }
    files.push(File { path: path.to_vec(), modules: read.modules, uses: read.uses });
    for (found, child) in children {
        collect(&found, &child, files);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    /// `::`
    Sep,
    Punct(char),
    Str(String),
}

/// Identifiers, `::`, punctuation and string contents; comments, numbers, characters and
/// lifetimes dropped, so that a brace in a string or a comment is not counted.
fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            let (s, next) = quoted(&chars, i + 1);
            tokens.push(Token::Str(s));
            i = next;
        } else if (c == 'r' || c == 'b' || c == 'c') && raw_start(&chars, i).is_some() {
            let (hashes, open) = raw_start(&chars, i).expect("checked");
            let mut j = open + 1;
            let close: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            while j < chars.len() && chars[j..].iter().take(close.len()).ne(close.iter()) {
                j += 1;
            }
            tokens.push(Token::Str(chars[open + 1..j.min(chars.len())].iter().collect()));
            i = j + close.len();
        } else if (c == 'b' || c == 'c') && at(i + 1) == '"' {
            let (s, next) = quoted(&chars, i + 2);
            tokens.push(Token::Str(s));
            i = next;
        } else if c == 'b' && at(i + 1) == '\'' {
            i = char_literal_end(&chars, i + 1);
        } else if c == '\'' {
            // A character ('x', '\n', '\u{..}') or a lifetime ('a, 'static).
            if at(i + 1) == '\\' || at(i + 2) == '\'' {
                i = char_literal_end(&chars, i);
            } else {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // A raw identifier `r#type` is the identifier `type`.
            if word == "r" && at(i) == '#' && (at(i + 1).is_alphabetic() || at(i + 1) == '_') {
                let start = i + 1;
                i = start;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                tokens.push(Token::Ident(chars[start..i].iter().collect()));
            } else {
                tokens.push(Token::Ident(word));
            }
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                // `0..n` is a range, not a number with a dot.
                if chars[i] == '.' && at(i + 1) == '.' {
                    break;
                }
                i += 1;
            }
        } else if c == ':' && at(i + 1) == ':' {
            tokens.push(Token::Sep);
            i += 2;
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// The contents of a `"..."` string whose first character is at `from`, and where it ends.
fn quoted(chars: &[char], from: usize) -> (String, usize) {
    let mut s = String::new();
    let mut i = from;
    while i < chars.len() && chars[i] != '"' {
        if chars[i] == '\\' {
            i += 1;
        }
        if let Some(&c) = chars.get(i) {
            s.push(c);
        }
        i += 1;
    }
    (s, i + 1)
}

/// For `r"`, `r#"`, `br##"`, `cr"`: the number of `#` and the index of the opening quote.
fn raw_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if chars[j] == 'b' || chars[j] == 'c' {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    // Not the end of an identifier such as `for`: the `r` must start the token.
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|c| **c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some((hashes, j + hashes))
}

/// The index after a character literal whose opening quote is at `i`.
fn char_literal_end(chars: &[char], i: usize) -> usize {
    let mut j = i + 1;
    if chars.get(j) == Some(&'\\') {
        j += 2;
    } else {
        j += 1;
    }
    while j < chars.len() && chars[j] != '\'' {
        j += 1;
    }
    j + 1
}

/// A `mod x;` declaration: the file to read next.
#[derive(Debug)]
struct Declared {
    /// The inline modules it is declared in, from the file's module.
    inline_path: Vec<String>,
    name: String,
    path_attr: Option<String>,
}

#[derive(Debug, Default)]
struct Read {
    modules: Vec<(Vec<String>, BTreeSet<String>)>,
    declared: Vec<Declared>,
    uses: Vec<Vec<String>>,
}

/// One module's scope while reading: its path and the names it binds to paths.
struct Scope {
    path: Vec<String>,
    /// The brace depth its block opened at (`None` for the file's own module).
    depth: Option<usize>,
    children: BTreeSet<String>,
    /// `use a::b::c;` binds `c` to `[a, b, c]` (as written, resolved when used).
    bindings: BTreeMap<String, Vec<String>>,
}

fn read_file(tokens: &[Token], path: &[String]) -> Read {
    let ident = |i: usize| match tokens.get(i) {
        Some(Token::Ident(s)) => Some(s.as_str()),
        _ => None,
    };
    let punct = |i: usize, c: char| tokens.get(i) == Some(&Token::Punct(c));
    // First pass: every module's children, so that a path may name a child declared below it.
    let mut children: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    let mut read = Read::default();
    {
        let mut stack: Vec<(Vec<String>, Option<usize>)> = vec![(path.to_vec(), None)];
        let mut depth = 0;
        let mut pending_path_attr: Option<String> = None;
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth -= 1;
                    if stack.last().is_some_and(|(_, d)| *d == Some(depth)) {
                        stack.pop();
                    }
                }
                Token::Punct('#') if punct(i + 1, '[') && ident(i + 2) == Some("path") && punct(i + 3, '=') => {
                    if let Some(Token::Str(p)) = tokens.get(i + 4) {
                        pending_path_attr = Some(p.clone());
                    }
                }
                Token::Ident(word) if word == "mod" => {
                    if let Some(name) = ident(i + 1) {
                        let current = stack.last().expect("the file's module").0.clone();
                        children.entry(current.clone()).or_default().insert(name.to_owned());
                        if punct(i + 2, ';') {
                            read.declared.push(Declared {
                                inline_path: current[path.len()..].to_vec(),
                                name: name.to_owned(),
                                path_attr: pending_path_attr.take(),
                            });
                        } else if punct(i + 2, '{') {
                            let mut inner = current;
                            inner.push(name.to_owned());
                            children.entry(inner.clone()).or_default();
                            stack.push((inner, Some(depth)));
                            depth += 1;
                            i += 3;
                            continue;
                        }
                    }
                }
                Token::Punct(';') => pending_path_attr = None,
                _ => {}
            }
            i += 1;
        }
    }
    children.entry(path.to_vec()).or_default();
    read.modules = children.iter().map(|(p, c)| (p.clone(), c.clone())).collect();

    // Second pass: `use` trees bind names; paths are resolved against the scopes they are in.
    let mut scopes =
        vec![Scope { path: path.to_vec(), depth: None, children: children[path].clone(), bindings: BTreeMap::new() }];
    let mut depth = 0;
    let mut written: Vec<(Vec<String>, usize)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                depth -= 1;
                if scopes.last().is_some_and(|s| s.depth == Some(depth)) {
                    let scope = scopes.pop().expect("an inline module");
                    resolve_all(&scope, &scopes, &mut written, &mut read.uses);
                }
            }
            Token::Ident(word) if word == "mod" && ident(i + 1).is_some() && punct(i + 2, '{') => {
                let mut inner = scopes.last().expect("a scope").path.clone();
                inner.push(ident(i + 1).expect("checked").to_owned());
                let kids = children.get(&inner).cloned().unwrap_or_default();
                scopes.push(Scope { path: inner, depth: Some(depth), children: kids, bindings: BTreeMap::new() });
                depth += 1;
                i += 3;
                continue;
            }
            Token::Ident(word) if word == "use" => {
                let mut leaves = Vec::new();
                let end = use_tree(tokens, i + 1, Vec::new(), &mut leaves);
                let level = scopes.len() - 1;
                for (full, bound) in leaves {
                    if let Some(bound) = bound {
                        scopes[level].bindings.insert(bound, full.clone());
                    }
                    written.push((full, level));
                }
                i = end;
                continue;
            }
            // `pub(in crate::a)` restricts visibility; it uses nothing.
            Token::Ident(word) if word == "in" && punct(i.wrapping_sub(1), '(') => {
                i += 1;
                while matches!(tokens.get(i), Some(Token::Ident(_) | Token::Sep)) {
                    i += 1;
                }
                continue;
            }
            Token::Ident(first)
                if tokens.get(i + 1) == Some(&Token::Sep) && tokens.get(i.wrapping_sub(1)) != Some(&Token::Sep) =>
            {
                let mut segments = vec![first.clone()];
                let mut j = i + 1;
                while tokens.get(j) == Some(&Token::Sep) {
                    match ident(j + 1) {
                        Some(s) => {
                            segments.push(s.to_owned());
                            j += 2;
                        }
                        None => break,
                    }
                }
                written.push((segments, scopes.len() - 1));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    while let Some(scope) = scopes.pop() {
        resolve_all(&scope, &scopes, &mut written, &mut read.uses);
    }
    read
}

/// Resolves the paths written in `scope` (and not yet resolved) now that all its `use`
/// declarations are known, innermost scopes first.
fn resolve_all(scope: &Scope, outer: &[Scope], written: &mut Vec<(Vec<String>, usize)>, uses: &mut Vec<Vec<String>>) {
    let level = outer.len();
    let mut kept = Vec::new();
    for (segments, at) in written.drain(..) {
        if at != level {
            kept.push((segments, at));
            continue;
        }
        if let Some(full) = resolve(&segments, scope, outer, 0) {
            uses.push(full);
        }
    }
    *written = kept;
}

/// The absolute path (`crate::...`) a written path names, if it names one of this crate.
fn resolve(segments: &[String], scope: &Scope, outer: &[Scope], hops: usize) -> Option<Vec<String>> {
    let (first, rest) = segments.split_first()?;
    let mut base = match first.as_str() {
        "crate" => vec!["crate".to_owned()],
        "self" => scope.path.clone(),
        "super" => {
            let mut p = scope.path.clone();
            p.pop();
            let mut rest = rest;
            while rest.first().map(String::as_str) == Some("super") {
                p.pop();
                rest = &rest[1..];
            }
            if p.is_empty() {
                return None;
            }
            p.extend(rest.iter().cloned());
            return Some(p);
        }
        name if scope.children.contains(name) => {
            let mut p = scope.path.clone();
            p.push(name.to_owned());
            p
        }
        name => {
            // A name bound by `use` here, or in an enclosing inline module (seen through
            // `use super::*`, or lexically in function bodies).
            let scopes = std::iter::once(scope).chain(outer.iter().rev());
            let (bound, owner) = scopes.enumerate().find_map(|(n, s)| s.bindings.get(name).map(|b| (b, n)))?;
            if hops > 8 || bound.first() == Some(first) && bound.len() == 1 {
                return None;
            }
            let owner_scope = if owner == 0 { scope } else { &outer[outer.len() - owner] };
            let owner_outer = if owner == 0 { outer } else { &outer[..outer.len() - owner] };
            let mut target = resolve(bound, owner_scope, owner_outer, hops + 1)?;
            target.extend(rest.iter().cloned());
            return Some(target);
        }
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Reads one `use` tree from `i` (after `use`), pushing each leaf's full path and the name it
/// binds (`None` for a glob); returns the index after the tree's end.
fn use_tree(
    tokens: &[Token],
    mut i: usize,
    prefix: Vec<String>,
    leaves: &mut Vec<(Vec<String>, Option<String>)>,
) -> usize {
    let mut path = prefix;
    // A leading `::` names an external crate.
    let external = tokens.get(i) == Some(&Token::Sep) && path.is_empty();
    if external {
        i += 1;
    }
    loop {
        match tokens.get(i) {
            Some(Token::Ident(s)) if s != "as" => {
                path.push(s.clone());
                i += 1;
            }
            Some(Token::Punct('*')) => {
                if !external {
                    leaves.push((path.clone(), None));
                }
                return skip_to_end(tokens, i + 1);
            }
            Some(Token::Punct('{')) => {
                i += 1;
                loop {
                    match tokens.get(i) {
                        Some(Token::Punct('}')) => return skip_to_end(tokens, i + 1),
                        Some(Token::Punct(',')) => i += 1,
                        None => return i,
                        _ => {
                            let mut inner = Vec::new();
                            i = use_tree(tokens, i, path.clone(), &mut inner);
                            if !external {
                                leaves.extend(inner);
                            }
                        }
                    }
                }
            }
            _ => break,
        }
        if tokens.get(i) == Some(&Token::Sep) {
            i += 1;
        } else {
            break;
        }
    }
    // `a::b::{self}` binds `b`; `a as x` binds `x`.
    if path.last().map(String::as_str) == Some("self") {
        path.pop();
    }
    let mut bound = path.last().cloned();
    if tokens.get(i) == Some(&Token::Ident("as".to_owned())) {
        bound = match tokens.get(i + 1) {
            Some(Token::Ident(alias)) if alias != "_" => Some(alias.clone()),
            _ => None,
        };
        i += 2;
    }
    if !external && !path.is_empty() {
        leaves.push((path, bound));
    }
    skip_to_end(tokens, i)
}

/// Past a `;` that ends the tree, or at a `,` or `}` of the group it is in.
fn skip_to_end(tokens: &[Token], i: usize) -> usize {
    match tokens.get(i) {
        Some(Token::Punct(';')) => i + 1,
        _ => i,
    }
}

/// Tarjan's algorithm: the groups of modules that reach one another.
fn strongly_connected(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        groups: Vec<BTreeSet<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, node: &'g str) {
        let n = s.index.len();
        s.index.insert(node, n);
        s.low.insert(node, n);
        s.stack.push(node);
        s.on_stack.insert(node);
        let graph = s.graph;
        for next in graph.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !s.index.contains_key(next) {
                visit(s, next);
                let low = s.low[node].min(s.low[next]);
                s.low.insert(node, low);
            } else if s.on_stack.contains(next) {
                let low = s.low[node].min(s.index[next]);
                s.low.insert(node, low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut group = BTreeSet::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(top);
                group.insert(top.to_owned());
                if top == node {
                    break;
                }
            }
            s.groups.push(group);
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for node in graph.keys() {
        if !s.index.contains_key(node.as_str()) {
            visit(&mut s, node);
        }
    }
    s.groups.sort();
    s.groups
}

/// A shortest path from `start` back to itself inside `group` (breadth first).
fn shortest_circle(graph: &Graph, group: &BTreeSet<String>, start: &str) -> Vec<String> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in graph.get(node).into_iter().flatten().filter(|n| group.contains(*n)) {
            if next == start {
                let mut back = vec![node];
                while let Some(&before) = came_from.get(back[back.len() - 1]) {
                    back.push(before);
                }
                // `back` runs from `node` to `start`, which has no predecessor.
                let mut circle: Vec<String> = back.iter().rev().map(|n| (*n).to_owned()).collect();
                circle.push(start.to_owned());
                return circle;
            }
            if !came_from.contains_key(next.as_str()) && next != start {
                came_from.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    unreachable!("{start} is in a group of modules that reach one another")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crate folder with the given files, in a temporary directory.
    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_circle_through_three_modules_is_named() {
        let dir = folder(&[
            ("lib.rs", "mod a;\nmod b;\nmod c;\nmod d;\n"),
            ("a.rs", "use crate::b::B;\n"),
            ("b.rs", "pub struct B;\nfn f() { crate::c::g() }\n"),
            ("c.rs", "use super::{a, d};\npub fn g() { a::h() }\n"),
            ("d.rs", "// use crate::a; is a comment\nconst S: &str = \"crate::a::x\";\n"),
        ]);
        assert_eq!(import_cycles(dir.path()), vec![vec!["a", "b", "c", "a"]]);
        let graph = import_graph(dir.path());
        assert!(graph["d"].is_empty(), "comments and strings are not paths: {graph:?}");
        assert_eq!(graph["c"], BTreeSet::from(["a".to_owned(), "d".to_owned()]));
    }

    #[test]
    fn a_parent_and_its_children_in_a_folder() {
        let dir = folder(&[
            ("lib.rs", "pub mod db;\npub use db::shops::Shop;\n"),
            ("db/mod.rs", "pub mod shops;\npub struct Db;\n#[cfg(test)]\nmod tests { use super::*; }\n"),
            ("db/shops.rs", "use super::Db;\npub struct Shop;\n"),
        ]);
        let graph = import_graph(dir.path());
        assert_eq!(graph["crate"], BTreeSet::from(["db::shops".to_owned()]));
        assert_eq!(graph["db::shops"], BTreeSet::from(["db".to_owned()]));
        assert!(graph["db"].is_empty(), "declaring a child or testing oneself uses nothing: {graph:?}");
        assert!(import_cycles(dir.path()).is_empty());
        // A parent that uses its child's items while the child uses the parent's is a circle.
        let dir = folder(&[
            ("lib.rs", "mod send;\n"),
            ("send/mod.rs", "mod mail;\npub struct Outgoing;\nfn go() { mail::send() }\n"),
            ("send/mail.rs", "use super::Outgoing;\npub fn send() {}\n"),
        ]);
        assert_eq!(import_cycles(dir.path()), vec![vec!["send", "send::mail", "send"]]);
    }

    #[test]
    fn names_brought_in_by_use_lead_to_their_modules() {
        let dir = folder(&[
            ("lib.rs", "mod api;\nmod db;\n"),
            ("api/mod.rs", "mod push;\n"),
            (
                "api/push.rs",
                "use crate::db;\nuse crate::{db::events as ev};\nfn f<'a>(c: &'a str) { db::shops::get(); ev::x(); let _ = '{'; }\n",
            ),
            ("db/mod.rs", "pub mod events;\npub mod shops;\n"),
            ("db/events.rs", "pub fn x() {}\n"),
            ("db/shops.rs", "pub fn get() {}\n"),
        ]);
        let graph = import_graph(dir.path());
        assert_eq!(
            graph["api::push"],
            BTreeSet::from(["db".to_owned(), "db::events".to_owned(), "db::shops".to_owned()])
        );
    }

    #[test]
    fn a_module_folder_is_read_from_its_mod_rs() {
        let dir = folder(&[
            ("src/lib.rs", "mod store;\nmod other;\n"),
            ("src/other.rs", "use crate::store::a;\n"),
            ("src/store/mod.rs", "mod a;\nmod b;\n"),
            ("src/store/a.rs", "use crate::store::b::f;\nuse crate::other;\n"),
            ("src/store/b.rs", "use super::a::g;\npub fn f() {}\n"),
        ]);
        let graph = import_graph(&dir.path().join("src/store"));
        assert_eq!(graph.keys().collect::<Vec<_>>(), ["store", "store::a", "store::b"]);
        assert_eq!(import_cycles(&dir.path().join("src/store")), vec![vec!["store::a", "store::b", "store::a"]]);
    }
}
