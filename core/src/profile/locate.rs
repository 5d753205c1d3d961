//! Maps a JSON pointer back to the line and column where its value starts in the source
//! text, so that errors found after parsing can still name the place.
//!
//! `serde_json::Value` keeps no positions; rather than carry spans through every type,
//! this walks the (already validated) text along the pointer, skipping values without
//! building them, and gives up (returns `None`) on anything unexpected.
//!
//! A [`Locator`] answers many questions about one text in time linear in the text: it
//! scans each container on a pointer's path once, remembering where its members start,
//! and finds lines by binary search. The free functions [`offset_of`] and [`line_col`]
//! answer one question each; a parser that locates every rule of a large file keeps one
//! `Locator` (starting afresh per rule would be quadratic).

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use super::Location;

/// Where the members of one JSON container start.
enum Members {
    /// Key to the offset of its value; the first of duplicate keys wins.
    Object(HashMap<String, usize>),
    Array(Vec<usize>),
}

/// Answers "where is this pointer" for one text, each container scanned at most once.
pub struct Locator<'a> {
    text: &'a str,
    /// Container offset to its members, filled as pointers pass through.
    members: RefCell<HashMap<usize, Rc<Members>>>,
    /// Offsets where lines start, and whether each line is pure ASCII (then a column is
    /// a byte difference; otherwise characters are counted).
    lines: OnceCell<(Vec<usize>, Vec<bool>)>,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Locator<'a> {
        Locator {
            text,
            members: RefCell::new(HashMap::new()),
            lines: OnceCell::new(),
        }
    }

    /// Byte offset of the value at `pointer` (RFC 6901), as [`offset_of`].
    pub fn offset(&self, pointer: &str) -> Option<usize> {
        let b = self.text.as_bytes();
        let mut i = skip_ws(b, 0);
        if pointer.is_empty() {
            return b.get(i).map(|_| i);
        }
        for raw in pointer.strip_prefix('/')?.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            let members = self.members_at(i)?;
            i = match &*members {
                Members::Object(keys) => *keys.get(&token)?,
                Members::Array(items) => *items.get(token.parse::<usize>().ok()?)?,
            };
        }
        b.get(i)?;
        Some(i)
    }

    /// 1-based line and column (in characters) of byte `offset`, as [`line_col`].
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let b = self.text.as_bytes();
        let offset = offset.min(b.len());
        let (starts, ascii) = self.lines.get_or_init(|| {
            let mut starts = vec![0];
            let mut ascii = vec![true];
            for (i, &c) in b.iter().enumerate() {
                if c == b'\n' {
                    starts.push(i + 1);
                    ascii.push(true);
                } else if !c.is_ascii() {
                    *ascii.last_mut().expect("one line at least") = false;
                }
            }
            (starts, ascii)
        });
        let line = starts.partition_point(|&s| s <= offset);
        let start = starts[line - 1];
        let col = if ascii[line - 1] {
            offset - start
        } else {
            String::from_utf8_lossy(&b[start..offset]).chars().count()
        };
        (line, col + 1)
    }

    /// The place of `pointer`: its value's first byte if it exists, else its nearest
    /// existing parent's (a missing member is reported where it should have been).
    pub fn location(&self, source: &str, pointer: &str) -> Location {
        let mut p = pointer;
        let offset = loop {
            if let Some(o) = self.offset(p) {
                break o;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => break 0,
            }
        };
        let (line, column) = self.line_col(offset);
        Location {
            source: source.to_string(),
            line,
            column,
            pointer: pointer.to_string(),
        }
    }

    /// The members of the container starting at `i`, scanning it the first time.
    fn members_at(&self, i: usize) -> Option<Rc<Members>> {
        if let Some(m) = self.members.borrow().get(&i) {
            return Some(Rc::clone(m));
        }
        let m = Rc::new(scan_members(self.text.as_bytes(), i)?);
        self.members.borrow_mut().insert(i, Rc::clone(&m));
        Some(m)
    }
}

/// Reads the members of the object or array starting at `b[i]`.
fn scan_members(b: &[u8], mut i: usize) -> Option<Members> {
    match *b.get(i)? {
        b'{' => {
            let mut keys = HashMap::new();
            i = skip_ws(b, i + 1);
            if *b.get(i)? == b'}' {
                return Some(Members::Object(keys));
            }
            loop {
                if *b.get(i)? != b'"' {
                    return None;
                }
                let (key, after) = read_string(b, i)?;
                i = skip_ws(b, after);
                if *b.get(i)? != b':' {
                    return None;
                }
                i = skip_ws(b, i + 1);
                keys.entry(key).or_insert(i);
                i = skip_ws(b, skip_value(b, i)?);
                match *b.get(i)? {
                    b',' => i = skip_ws(b, i + 1),
                    b'}' => return Some(Members::Object(keys)),
                    _ => return None,
                }
            }
        }
        b'[' => {
            let mut items = Vec::new();
            i = skip_ws(b, i + 1);
            if *b.get(i)? == b']' {
                return Some(Members::Array(items));
            }
            loop {
                items.push(i);
                i = skip_ws(b, skip_value(b, i)?);
                match *b.get(i)? {
                    b',' => i = skip_ws(b, i + 1),
                    b']' => return Some(Members::Array(items)),
                    _ => return None,
                }
            }
        }
        _ => None,
    }
}

/// Byte offset of the value at `pointer` (RFC 6901) in `src`: one question, answered
/// by a [`Locator`] made for it.
pub fn offset_of(src: &str, pointer: &str) -> Option<usize> {
    Locator::new(src).offset(pointer)
}

/// 1-based line and column (in characters) of byte `offset`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = before.iter().filter(|&&c| c == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Reads the string starting at `b[i] == '"'`; returns its (unescaped enough for key
/// comparison) contents and the offset after the closing quote.
fn read_string(b: &[u8], i: usize) -> Option<(String, usize)> {
    let mut j = i + 1;
    let mut out = Vec::new();
    while j < b.len() {
        match b[j] {
            b'"' => return Some((String::from_utf8_lossy(&out).into_owned(), j + 1)),
            b'\\' => {
                let c = *b.get(j + 1)?;
                out.push(match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'b' => 8,
                    b'f' => 12,
                    other => other,
                });
                j += 2;
            }
            c => {
                out.push(c);
                j += 1;
            }
        }
    }
    None
}

/// Offset just past the string starting at `b[i] == '"'`, without copying it.
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        // The next quote or backslash; everything between is the string's own text.
        j += b.get(j..)?.iter().position(|&c| c == b'"' || c == b'\\')?;
        if b[j] == b'"' {
            return Some(j + 1);
        }
        j += 2;
    }
}

/// Offset just past the value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            // Only strings and brackets matter inside; everything else is passed over.
            let mut depth = 0usize;
            let mut j = i;
            loop {
                j += b
                    .get(j..)?
                    .iter()
                    .position(|&c| matches!(c, b'"' | b'{' | b'[' | b'}' | b']'))?;
                match b[j] {
                    b'"' => j = skip_string(b, j)?,
                    b'{' | b'[' => {
                        depth += 1;
                        j += 1;
                    }
                    _ => {
                        depth = depth.checked_sub(1)?;
                        j += 1;
                        if depth == 0 {
                            return Some(j);
                        }
                    }
                }
            }
        }
        // A scalar: up to the punctuation that ends it.
        _ => Some(
            i + b[i..]
                .iter()
                .position(|&c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(b.len() - i),
        ),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;

    use super::*;

    const DOC: &str = "{\n  \"a\": [1, {\"b\": \"x,]\"}, [2, 3]],\n  \"c~/d\": {\"e\": null}\n}";

    fn at(p: &str) -> (usize, usize) {
        line_col(DOC, offset_of(DOC, p).unwrap())
    }

    #[test]
    fn finds_nested_values() {
        assert_eq!(at(""), (1, 1));
        assert_eq!(at("/a"), (2, 8));
        assert_eq!(at("/a/0"), (2, 9));
        assert_eq!(at("/a/1/b"), (2, 18));
        assert_eq!(at("/a/2/1"), (2, 30));
        assert_eq!(at("/c~0~1d/e"), (3, 17));
    }

    #[test]
    fn locator_lines_agree_with_counting() {
        let doc = "{\"é\": [1, {\"b\": \"x,]\"}],\n \"k\": [[], {}, \"ü\", [2, 3]], \"k\": 9}";
        let loc = Locator::new(doc);
        // The first of duplicate keys; missing members and indices are None.
        assert_eq!(loc.offset("/k"), doc.find("[["));
        for p in ["/zz", "/k/x", "/k/4", "/é/2"] {
            assert_eq!(loc.offset(p), None, "{p}");
        }
        for o in 0..=doc.len() + 3 {
            if doc.is_char_boundary(o.min(doc.len())) {
                assert_eq!(loc.line_col(o), line_col(doc, o), "offset {o}");
            }
        }
        assert_eq!(
            Locator::new(DOC).offset("/c~0~1d/e"),
            offset_of(DOC, "/c~0~1d/e")
        );
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z\"\\\\/é ,\\]\\}]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-z~/\"é]{0,3}", inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// Every pointer into the document, parents first.
    fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        match v {
            serde_json::Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    pointers(x, format!("{at}/{i}"), out);
                }
            }
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    pointers(
                        x,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            _ => {}
        }
    }

    proptest! {
        /// The value found at a pointer's offset is the value at that pointer (checked
        /// by serde_json, independently of the scanner), and lines found by binary
        /// search agree with counting newlines.
        #[test]
        fn offsets_hold_the_pointed_value(v in json(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            let loc = Locator::new(&text);
            let mut all = Vec::new();
            pointers(&v, String::new(), &mut all);
            for p in all {
                let o = loc.offset(&p).expect("every pointer exists");
                let mut de = serde_json::Deserializer::from_str(&text[o..]);
                let found = serde_json::Value::deserialize(&mut de).unwrap();
                prop_assert_eq!(&found, v.pointer(&p).unwrap(), "{}", p);
                prop_assert_eq!(loc.line_col(o), line_col(&text, o));
            }
        }
    }

    #[test]
    fn misses_are_none() {
        assert_eq!(offset_of(DOC, "/zz"), None);
        assert_eq!(offset_of(DOC, "/a/9"), None);
        assert_eq!(offset_of("[", "/0"), None);
    }
}
