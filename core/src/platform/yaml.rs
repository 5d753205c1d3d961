//! YAML manifests as the JSON values the platform code reads, with the line and column
//! of every value, so that errors and answers name places in the YAML file.
//!
//! Kubernetes manifests are mostly kept as YAML: several documents in one file (`---`),
//! `helm template` and `kustomize build` output. This module turns each document into a
//! `serde_json::Value` (what `kubectl` does through sigs.k8s.io/yaml) and records where
//! each value starts, by JSON pointer. The events come from `yaml-rust2` (a maintained
//! pure-Rust YAML 1.2 parser that reports positions; `serde_yaml` is archived, and serde
//! derives keep no positions). Anchors and aliases are expanded. Plain scalars resolve
//! as YAML 1.2's core schema (`true`/`false`, `null`/`~`/empty, integers in decimal,
//! `0x`, `0o`, floats); everything quoted is a string. Not modelled: YAML 1.1's
//! `yes`/`no`/`on`/`off` booleans, which go-yaml v2 (behind sigs.k8s.io/yaml) still
//! reads as booleans; they stay strings here, and a field that needs a boolean says so.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One YAML document: its value, and the 1-based (line, column) of every value in it by
/// JSON pointer.
#[derive(Debug)]
pub(crate) struct YamlDoc {
    pub root: Value,
    pub places: HashMap<String, (usize, usize)>,
    /// Where the document starts (for empty documents and errors at the root).
    pub start: (usize, usize),
}

/// A syntax error: 1-based line and column, and what is wrong.
#[derive(Debug)]
pub(crate) struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Every document of `text` that is not empty.
pub(crate) fn parse(text: &str) -> Result<Vec<YamlDoc>, YamlError> {
    let mut b = Builder {
        limit: MAX_VALUES + text.len() / 2,
        ..Builder::default()
    };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, true).map_err(|e| YamlError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    if let Some(e) = b.error {
        return Err(e);
    }
    Ok(b.docs)
}

enum Frame {
    Seq {
        items: Vec<Value>,
        pointer: String,
        anchor: usize,
        placed: bool,
    },
    Map {
        map: Map<String, Value>,
        pointer: String,
        anchor: usize,
        key: Option<String>,
        placed: bool,
    },
}

#[derive(Default)]
struct Builder {
    docs: Vec<YamlDoc>,
    stack: Vec<Frame>,
    places: HashMap<String, (usize, usize)>,
    anchors: HashMap<usize, Value>,
    start: (usize, usize),
    error: Option<YamlError>,
    /// Values built so far, aliases counted at their expanded size.
    values: usize,
    /// How many values this text may expand to.
    limit: usize,
}

/// The most values a file may expand to beyond what its text can hold without
/// aliases (about one value per two bytes): aliases are copied, so a few lines could
/// otherwise name billions of values ("billion laughs").
const MAX_VALUES: usize = 1_000_000;

/// The number of values in `v`, counting at most up to `limit`.
fn size(v: &Value, limit: usize) -> usize {
    let mut n = 1;
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        if n > limit {
            break;
        }
        match v {
            Value::Array(a) => {
                n += a.len();
                todo.extend(a);
            }
            Value::Object(m) => {
                n += m.len();
                todo.extend(m.values());
            }
            _ => {}
        }
    }
    n
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl Builder {
    /// The pointer the next value gets, or `None` when the next scalar is a key.
    fn next_pointer(&self) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Frame::Seq { items, pointer, .. }) => Some(format!("{pointer}/{}", items.len())),
            Some(Frame::Map { key: None, .. }) => None,
            Some(Frame::Map {
                key: Some(k),
                pointer,
                ..
            }) => Some(format!("{pointer}/{}", escape(k))),
        }
    }

    /// Places a finished value into its parent (or makes it the document's root).
    fn put(&mut self, v: Value) {
        match self.stack.last_mut() {
            None => {
                if !v.is_null() {
                    self.docs.push(YamlDoc {
                        root: v,
                        places: std::mem::take(&mut self.places),
                        start: self.start,
                    });
                }
                self.places.clear();
            }
            Some(Frame::Seq { items, .. }) => items.push(v),
            Some(Frame::Map { map, key, .. }) => {
                if let Some(k) = key.take() {
                    map.insert(k, v);
                }
            }
        }
    }

    fn fail(&mut self, mark: Marker, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                line: mark.line(),
                column: mark.col() + 1,
                message,
            });
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let place = (mark.line(), mark.col() + 1);
        if self.values > self.limit {
            let limit = self.limit;
            self.fail(
                mark,
                format!(
                    "the document expands to more than {limit} values (its aliases copy too much)"
                ),
            );
            return;
        }
        // A block collection's start event comes after its first key has been scanned;
        // its first child's mark, if earlier, is where it really starts.
        if let Some(
            Frame::Seq {
                pointer, placed, ..
            }
            | Frame::Map {
                pointer, placed, ..
            },
        ) = self.stack.last_mut()
        {
            if !*placed {
                *placed = true;
                if let Some(p) = self.places.get_mut(pointer.as_str()) {
                    *p = (*p).min(place);
                }
            }
        }
        match ev {
            Event::DocumentStart => self.start = place,
            Event::Scalar(s, style, anchor, tag) => {
                let Some(pointer) = self.next_pointer() else {
                    // A mapping key.
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some(s);
                    }
                    return;
                };
                let quoted = style != TScalarStyle::Plain;
                let tagged_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let v = if quoted || tagged_str {
                    Value::String(s)
                } else {
                    plain(&s)
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                self.values += 1;
                self.places.insert(pointer, place);
                self.put(v);
            }
            Event::Alias(id) => {
                let Some(pointer) = self.next_pointer() else {
                    self.fail(mark, "an alias as a mapping key is not supported".into());
                    return;
                };
                let Some(v) = self.anchors.get(&id) else {
                    self.fail(mark, "an alias to an unknown anchor".into());
                    return;
                };
                // Counted before it is copied: a copy past the bound is never made.
                self.values += size(v, self.limit);
                if self.values > self.limit {
                    let limit = self.limit;
                    self.fail(
                        mark,
                        format!("the document expands to more than {limit} values (its aliases copy too much)"),
                    );
                    return;
                }
                let v = v.clone();
                self.places.insert(pointer, place);
                self.put(v);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                let Some(pointer) = self.next_pointer() else {
                    self.fail(
                        mark,
                        "a sequence or mapping as a mapping key is not supported".into(),
                    );
                    return;
                };
                self.values += 1;
                self.places.insert(pointer.clone(), place);
                self.stack.push(if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        pointer,
                        anchor,
                        placed: false,
                    }
                } else {
                    Frame::Map {
                        map: Map::new(),
                        pointer,
                        anchor,
                        key: None,
                        placed: false,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (v, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { items, anchor, .. }) => (Value::Array(items), anchor),
                    Some(Frame::Map { map, anchor, .. }) => (Value::Object(map), anchor),
                    None => return,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, v.clone());
                }
                self.put(v);
            }
            _ => {}
        }
    }
}

/// A plain scalar under YAML 1.2's core schema.
fn plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let int = if let Some(h) = digits.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()
    } else if let Some(o) = digits.strip_prefix("0o") {
        u64::from_str_radix(o, 8).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<u64>().ok()
    } else {
        None
    };
    if let Some(n) = int {
        return match (neg, i64::try_from(n)) {
            (false, _) => Value::Number(n.into()),
            (true, Ok(i)) => Value::Number((-i).into()),
            (true, Err(_)) => Value::String(s.to_string()),
        };
    }
    let looks_float = s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && s.bytes().any(|b| b.is_ascii_digit());
    if looks_float {
        if let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "# two documents\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    a/b: \"x\"\nspec:\n  containers:\n  - name: app\n    securityContext:\n      privileged: true\n      runAsUser: 0x10\n---\n---\nkind: List\nitems: &i\n  - {kind: Pod, n: ~}\ncopy: *i\n";

    #[test]
    fn documents_values_and_places() {
        let docs = parse(TWO).unwrap();
        assert_eq!(docs.len(), 2, "the empty document is skipped");
        let d = &docs[0];
        assert_eq!(
            d.root["spec"]["containers"][0]["securityContext"]["privileged"],
            true
        );
        assert_eq!(
            d.root["spec"]["containers"][0]["securityContext"]["runAsUser"],
            16
        );
        assert_eq!(d.root["metadata"]["annotations"]["a/b"], "x");
        assert_eq!(d.places["/metadata/annotations/a~1b"], (7, 10));
        assert_eq!(d.places["/spec/containers/0"], (10, 5));
        assert_eq!(d.places["/spec/containers/0/name"], (10, 11));
        let l = &docs[1];
        assert_eq!(l.root["items"][0]["kind"], "Pod");
        assert_eq!(l.root["items"][0]["n"], Value::Null);
        assert_eq!(l.root["copy"], l.root["items"], "aliases are expanded");
    }

    /// The value at every recorded place starts there: its first character is the
    /// start of the value's text (checked on the text, not through the parser).
    #[test]
    fn places_point_at_the_values() {
        for d in parse(TWO).unwrap() {
            for (pointer, (line, col)) in &d.places {
                let l = TWO.lines().nth(line - 1).unwrap();
                let rest: String = l.chars().skip(col - 1).collect();
                let v = d.root.pointer(pointer).unwrap();
                let ok = match v {
                    Value::String(s) => {
                        rest.starts_with(s.as_str()) || rest.starts_with(&format!("\"{s}\""))
                    }
                    Value::Object(_) => !rest.is_empty(),
                    Value::Array(_) => !rest.is_empty(),
                    _ => !rest.is_empty(),
                };
                assert!(ok, "{pointer} at {line}:{col}: {rest:?} for {v}");
            }
        }
    }

    #[test]
    fn scalars_resolve_as_yaml_1_2_core() {
        for (s, v) in [
            ("true", Value::Bool(true)),
            ("False", Value::Bool(false)),
            ("yes", Value::String("yes".into())),
            ("~", Value::Null),
            ("42", Value::from(42)),
            ("-7", Value::from(-7)),
            ("0o17", Value::from(15)),
            ("1.5", Value::from(1.5)),
            ("1.2.3", Value::String("1.2.3".into())),
            ("localhost/p.json", Value::String("localhost/p.json".into())),
        ] {
            assert_eq!(plain(s), v, "{s}");
        }
    }

    /// "Billion laughs": nine levels of ten aliases each would be 10^9 values.
    #[test]
    fn alias_bombs_are_refused() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            y.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse(&y).unwrap_err();
        assert!(e.message.contains("expands to more than"), "{e:?}");
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.line >= 1, "{e:?}");
        assert!(!e.message.is_empty());
    }
}
