//! A bank file's XML read into a small tree of elements with their line numbers, so that a
//! reader can walk it and name the element at fault ("Stmt[2]/Ntry[5]/Amt", line 48).
//!
//! Why a tree and not serde: serde's errors do not say which of 300 entries was wrong, and a
//! statement is refused or accepted whole, so it is read whole anyway (a day's statement is
//! kilobytes to a few megabytes). Names are local names: banks write `<Document>` and
//! `<ns2:Document>` alike; the namespace of the root is kept for the reader to check.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use super::BankError;

/// One element: local name, attributes, text (entities resolved, trimmed), children in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
    /// 1-based line of the start tag.
    pub line: usize,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The descendant at a `/`-separated path of local names, first match at each step.
    pub fn at(&self, path: &str) -> Option<&Node> {
        path.split('/').try_fold(self, |node, name| node.child(name))
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The document's root element and the namespace its name is in.
#[derive(Debug)]
pub(crate) struct Document {
    pub root: Node,
    pub namespace: Option<String>,
}

/// Reads a whole document. XML that is not well formed is refused with the line where the
/// parser stopped; a UTF-8 byte-order mark is skipped (ISO 20022 messages are UTF-8).
pub(crate) fn parse(input: &[u8]) -> Result<Document, BankError> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|e| BankError::Malformed {
        element: "document".into(),
        line: line_of(input, e.valid_up_to()),
        reason: "the file is not UTF-8 text".into(),
    })?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut lines = LineCounter::default();
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<(Node, Option<String>)> = None;
    let mut namespace = None;
    loop {
        let at = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| BankError::Malformed {
            element: path_of(&stack),
            line: lines.line(text, reader.error_position() as usize),
            reason: format!("not well-formed XML: {e}"),
        })?;
        let malformed = |stack: &[Node], lines: &mut LineCounter, reason: String| BankError::Malformed {
            element: path_of(stack),
            line: lines.line(text, at),
            reason,
        };
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() && stack.is_empty() => {
                return Err(malformed(&stack, &mut lines, "a second root element".into()));
            }
            Event::Start(start) => {
                let node = element(&start, lines.line(text, at)).map_err(|r| malformed(&stack, &mut lines, r))?;
                if stack.is_empty() {
                    namespace = root_namespace(&start);
                }
                stack.push(node);
            }
            Event::Empty(start) => {
                let node = element(&start, lines.line(text, at)).map_err(|r| malformed(&stack, &mut lines, r))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some((node, root_namespace(&start))),
                }
            }
            Event::End(_) => {
                let mut node = stack.pop().expect("quick-xml checks end names");
                node.text = node.text.trim().to_owned();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some((node, namespace.take())),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| malformed(&stack, &mut lines, e.to_string()))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(malformed(&stack, &mut lines, "text outside the root element".into())),
                }
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| malformed(&stack, &mut lines, e.to_string()))?;
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|e| malformed(&stack, &mut lines, e.to_string()))?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| malformed(&stack, &mut lines, format!("unknown entity &{name};")))?
                            .to_owned()
                    }
                    Err(e) => return Err(malformed(&stack, &mut lines, e.to_string())),
                };
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(BankError::Malformed {
            element: path_of(&stack),
            line: lines.line(text, text.len()),
            reason: "the file ends before this element is closed".into(),
        });
    }
    let (root, namespace) = root.ok_or_else(|| BankError::Malformed {
        element: "document".into(),
        line: 1,
        reason: "no XML element in the file".into(),
    })?;
    Ok(Document { root, namespace })
}

fn element(start: &BytesStart<'_>, line: usize) -> Result<Node, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute in <{name}>: {e}"))?;
        let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
        let value = attr.unescape_value().map_err(|e| format!("bad attribute in <{name}>: {e}"))?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Node { name, attrs, line, ..Node::default() })
}

/// The namespace the root's name is in: `xmlns` for `<Document>`, `xmlns:p` for `<p:Document>`.
fn root_namespace(start: &BytesStart<'_>) -> Option<String> {
    let wanted = match start.name().prefix() {
        Some(prefix) => format!("xmlns:{}", String::from_utf8_lossy(prefix.as_ref())),
        None => "xmlns".to_owned(),
    };
    start.attributes().flatten().find(|a| a.key.as_ref() == wanted.as_bytes()).and_then(|a| {
        let value = a.unescape_value().ok()?;
        Some(value.trim().to_owned())
    })
}

fn path_of(stack: &[Node]) -> String {
    if stack.is_empty() {
        return "document".into();
    }
    stack.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join("/")
}

fn line_of(bytes: &[u8], at: usize) -> usize {
    1 + bytes[..at.min(bytes.len())].iter().filter(|&&b| b == b'\n').count()
}

/// Line numbers for increasing byte offsets, counting each newline once.
#[derive(Default)]
struct LineCounter {
    at: usize,
    line: usize,
}

impl LineCounter {
    fn line(&mut self, text: &str, at: usize) -> usize {
        let at = at.min(text.len());
        if at < self.at {
            return line_of(text.as_bytes(), at);
        }
        self.line += text.as_bytes()[self.at..at].iter().filter(|&&b| b == b'\n').count();
        self.at = at;
        self.line + 1
    }
}
