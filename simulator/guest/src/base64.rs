//! Standard base64 (RFC 4648, `+/`, `=` padding optional), both ways: raw `.bpf`
//! programs and non-UTF-8 inputs travel through JSON requests this way.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Decodes `text`; ASCII whitespace is ignored. On error, the byte offset of the first
/// character that is not base64 (or of the dangling final character).
pub fn decode(text: &str) -> Result<Vec<u8>, usize> {
    let body = text.trim_end_matches(|c: char| c == '=' || c.is_ascii_whitespace());
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    let mut last = 0;
    for (i, c) in body.bytes().enumerate() {
        if c.is_ascii_whitespace() {
            continue;
        }
        acc = (acc << 6) | value(c).ok_or(i)?;
        bits += 6;
        last = i;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // 6 leftover bits would be a lone character: not a whole byte.
    if bits >= 6 {
        return Err(last);
    }
    Ok(out)
}

/// Encodes `bytes` with padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = chunk
            .iter()
            .enumerate()
            .fold(0u32, |v, (i, b)| v | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= n {
                out.push(ALPHABET[(v >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..40 {
            let e = encode(&data[..n]);
            assert_eq!(e.len() % 4, 0);
            assert_eq!(decode(&e).unwrap(), &data[..n], "{n} {e}");
            assert_eq!(decode(e.trim_end_matches('=')).unwrap(), &data[..n]);
        }
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(decode("Zm9v\nYmE=").unwrap(), b"fooba");
    }

    #[test]
    fn rejects_what_is_not_base64() {
        assert_eq!(decode("Zm9v!"), Err(4));
        assert_eq!(decode("Z"), Err(0));
        assert_eq!(decode("Zm9vY"), Err(4));
    }
}
