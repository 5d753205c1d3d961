//! Maps a JSON pointer back to the line and column where its value starts in the source
//! text, so that errors found after parsing can still name the place.
//!
//! `serde_json::Value` keeps no positions; rather than carry spans through every type,
//! this walks the (already validated) text along the pointer. It is iterative, skips
//! values without building them, and gives up (returns `None`) on anything unexpected.

/// Byte offset of the value at `pointer` (RFC 6901) in `src`.
pub fn offset_of(src: &str, pointer: &str) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = skip_ws(b, 0);
    if pointer.is_empty() {
        return Some(i);
    }
    for raw in pointer.strip_prefix('/')?.split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        match *b.get(i)? {
            b'{' => {
                i += 1;
                loop {
                    i = skip_ws(b, i);
                    if *b.get(i)? != b'"' {
                        return None;
                    }
                    let (key, after) = read_string(b, i)?;
                    i = skip_ws(b, after);
                    if *b.get(i)? != b':' {
                        return None;
                    }
                    i = skip_ws(b, i + 1);
                    if key == token {
                        break;
                    }
                    i = skip_ws(b, skip_value(b, i)?);
                    if *b.get(i)? != b',' {
                        return None;
                    }
                    i += 1;
                }
            }
            b'[' => {
                let n: usize = token.parse().ok()?;
                i = skip_ws(b, i + 1);
                for _ in 0..n {
                    i = skip_ws(b, skip_value(b, i)?);
                    if *b.get(i)? != b',' {
                        return None;
                    }
                    i = skip_ws(b, i + 1);
                }
            }
            _ => return None,
        }
    }
    b.get(i)?;
    Some(i)
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

/// Offset just past the value starting at `i`.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        match *b.get(i)? {
            b'"' => i = read_string(b, i)?.1,
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            _ => {
                // A scalar or punctuation inside a container.
                while i < b.len() && !matches!(b[i], b'"' | b'{' | b'[' | b'}' | b']' | b',') {
                    i += 1;
                }
                if depth == 0 {
                    return Some(i);
                }
                if i < b.len() && b[i] == b',' {
                    i += 1;
                }
            }
        }
        if depth == 0 {
            return Some(i);
        }
    }
}

#[cfg(test)]
mod tests {
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
    fn misses_are_none() {
        assert_eq!(offset_of(DOC, "/zz"), None);
        assert_eq!(offset_of(DOC, "/a/9"), None);
        assert_eq!(offset_of("[", "/0"), None);
    }
}
