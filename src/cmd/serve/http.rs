//! The little HTTP/1.1 that `syscage serve` speaks: reading a request head within fixed
//! limits and a deadline, writing a `Connection: close` response, and closing politely.
//!
//! The server only answers GET and HEAD for embedded files, so it never reads a body and
//! never keeps a connection open. Everything here is bounded whatever the client sends:
//! a head is read into one buffer of [`Limits::head`] bytes (a longer one is refused
//! with 414 or 431 as soon as it is seen), every read and write is given only the time
//! left before its deadline (so a client sending or reading one byte at a time cannot
//! extend it), and the drain after the response stops after [`LINGER_BYTES`] or
//! [`LINGER_TIME`].

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// How big a request head may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The request line and each header line, without the line end.
    pub line: usize,
    /// The whole head: request line, header lines, line ends and the blank line.
    pub head: usize,
    /// Header lines.
    pub headers: usize,
}

/// The limits `syscage serve` applies: far above anything a browser sends for these
/// files (Chromium's own request heads are well under 2 KiB).
pub const LIMITS: Limits = Limits {
    line: 8 * 1024,
    head: 32 * 1024,
    headers: 100,
};

/// After the response, how long the input is drained so that the client reads the
/// response before the close (closing with unread input makes the kernel send a reset,
/// which may destroy a response the client has not read yet)...
pub const LINGER_TIME: Duration = Duration::from_secs(1);
/// ...and how much of it at most.
pub const LINGER_BYTES: usize = 256 * 1024;

/// The statuses the server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    UriTooLong,
    HeaderFieldsTooLarge,
    ServiceUnavailable,
    VersionNotSupported,
}

impl Status {
    /// The status line's code and reason phrase.
    pub fn line(self) -> &'static str {
        match self {
            Status::Ok => "200 OK",
            Status::BadRequest => "400 Bad Request",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::RequestTimeout => "408 Request Timeout",
            Status::UriTooLong => "414 URI Too Long",
            Status::HeaderFieldsTooLarge => "431 Request Header Fields Too Large",
            Status::ServiceUnavailable => "503 Service Unavailable",
            Status::VersionNotSupported => "505 HTTP Version Not Supported",
        }
    }
}

/// A request head worth routing: its method and its target, as sent.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
}

/// Why no request came out of a connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Answer with this status, then close.
    Refuse(Status),
    /// The client closed the connection, or it broke: nothing to answer.
    Gone,
}

/// Reads one request head from `r` within `limits`, leaving anything after the blank
/// line unread. A read that times out (see [`Timed`]) is a 408.
pub fn read_head<R: Read>(r: &mut R, limits: &Limits) -> Result<Request, Failure> {
    let mut buf = vec![0u8; limits.head];
    let mut filled = 0;
    // Where the line being read starts; everything before it has been checked.
    let mut line_start = 0;
    let mut request_line: Option<(usize, usize)> = None;
    let mut headers = 0;
    // Refusals of a line too long: the request line's, then a header line's.
    let too_long = |request_line: &Option<(usize, usize)>| {
        Failure::Refuse(if request_line.is_none() {
            Status::UriTooLong
        } else {
            Status::HeaderFieldsTooLarge
        })
    };
    loop {
        while let Some(nl) = buf[line_start..filled].iter().position(|&b| b == b'\n') {
            let end = line_start + nl;
            let line = &buf[line_start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.len() > limits.line {
                return Err(too_long(&request_line));
            }
            if line.contains(&b'\r') || line.contains(&0) {
                return Err(Failure::Refuse(Status::BadRequest));
            }
            match request_line {
                // Blank lines before the request line are ignored (RFC 9112, 2.2).
                None if line.is_empty() => {}
                None => request_line = Some((line_start, line_start + line.len())),
                Some((start, end)) if line.is_empty() => {
                    return parse_request_line(&buf[start..end])
                }
                Some(_) => {
                    headers += 1;
                    if headers > limits.headers {
                        return Err(Failure::Refuse(Status::HeaderFieldsTooLarge));
                    }
                    if !is_header_line(line) {
                        return Err(Failure::Refuse(Status::BadRequest));
                    }
                }
            }
            line_start = end + 1;
        }
        // The unfinished line may already be over the limit: refuse it now rather than
        // read the rest of it.
        if filled - line_start > limits.line {
            return Err(too_long(&request_line));
        }
        if filled == buf.len() {
            return Err(Failure::Refuse(Status::HeaderFieldsTooLarge));
        }
        match r.read(&mut buf[filled..]) {
            Ok(0) => return Err(Failure::Gone),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(Failure::Refuse(Status::RequestTimeout)),
            Err(_) => return Err(Failure::Gone),
        }
    }
}

/// `METHOD SP TARGET SP HTTP/1.x`, nothing else.
fn parse_request_line(line: &[u8]) -> Result<Request, Failure> {
    let bad = || Failure::Refuse(Status::BadRequest);
    let line = std::str::from_utf8(line).map_err(|_| bad())?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(bad());
    }
    if target.is_empty() || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    match version {
        "HTTP/1.1" | "HTTP/1.0" => {}
        v if v.starts_with("HTTP/") => return Err(Failure::Refuse(Status::VersionNotSupported)),
        _ => return Err(bad()),
    }
    Ok(Request {
        method: method.into(),
        target: target.into(),
    })
}

/// `NAME: value`, with no space before the colon and no obsolete line folding.
fn is_header_line(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(colon) => colon > 0 && line[..colon].iter().copied().all(is_token_byte),
        None => false,
    }
}

/// RFC 9110's `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// A socket whose reads and writes all end by `deadline`: before each one, the socket's
/// timeout is set to the time left, so however the client paces its bytes, the
/// deadline holds. Past it, reads and writes fail with [`io::ErrorKind::TimedOut`].
pub struct Timed<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

impl<'a> Timed<'a> {
    pub fn new(stream: &'a TcpStream, deadline: Instant) -> Self {
        Timed { stream, deadline }
    }

    fn left(&self) -> io::Result<Duration> {
        match self.deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the deadline has passed",
            )),
        }
    }
}

/// The socket's own timeouts report `WouldBlock` on Unix: say `TimedOut` instead.
fn timed_out(e: io::Error) -> io::Error {
    if is_timeout(&e) {
        io::Error::new(io::ErrorKind::TimedOut, "the deadline has passed")
    } else {
        e
    }
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        let mut stream = self.stream;
        stream.read(buf).map_err(timed_out)
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        let mut stream = self.stream;
        stream.write(buf).map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes a complete `Connection: close` response: the status line, `Content-Type`,
/// `Content-Length`, `headers`, then `body` unless `head_only` (an answer to HEAD).
pub fn respond<W: Write>(
    w: &mut W,
    status: Status,
    content_type: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        status.line(),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())?;
    if !head_only {
        w.write_all(body)?;
    }
    w.flush()
}

/// Ends the connection after a response: says no more will be sent, then reads and
/// drops what the client still sends (at most [`LINGER_BYTES`] for at most
/// [`LINGER_TIME`]) until it closes its side, so that the close does not turn into a
/// reset that could destroy the response before the client reads it.
pub fn close(stream: &TcpStream) {
    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let mut input = Timed::new(stream, Instant::now() + LINGER_TIME);
    let mut scratch = [0u8; 8192];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        match input.read(&mut scratch) {
            Ok(0) => return,
            Ok(n) => drained += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Answers `response` (a complete response) on a connection the server will not serve,
/// without blocking: what the client has sent so far is drained first, the response is
/// written if the socket takes it at once, and the connection is closed.
pub fn refuse_now(mut stream: &TcpStream, response: &[u8]) {
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    let drain = |mut stream: &TcpStream| {
        let mut scratch = [0u8; 8192];
        for _ in 0..8 {
            match stream.read(&mut scratch) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    };
    drain(stream);
    let _ = stream.write_all(response);
    let _ = stream.shutdown(Shutdown::Write);
    drain(stream);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const SMALL: Limits = Limits {
        line: 16,
        head: 64,
        headers: 3,
    };

    fn head(bytes: &[u8], limits: &Limits) -> Result<Request, Failure> {
        read_head(&mut &bytes[..], limits)
    }

    fn get(target: &str) -> Request {
        Request {
            method: "GET".into(),
            target: target.into(),
        }
    }

    /// Hands out its bytes `step` at a time, then times out (a client that went quiet).
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
        reads: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            if self.bytes.is_empty() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn reads_a_request_with_crlf_or_lf_line_ends() {
        assert_eq!(
            head(b"GET /app.js HTTP/1.1\r\nHost: x\r\n\r\n", &LIMITS),
            Ok(get("/app.js"))
        );
        assert_eq!(head(b"GET / HTTP/1.0\n\n", &LIMITS), Ok(get("/")));
        assert_eq!(
            head(b"\r\nHEAD /?a=b HTTP/1.1\r\n\r\nignored body", &LIMITS),
            Ok(Request {
                method: "HEAD".into(),
                target: "/?a=b".into()
            })
        );
    }

    #[test]
    fn reads_a_head_that_arrives_one_byte_at_a_time() {
        let mut r = Trickle {
            bytes: b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
            step: 1,
            reads: 0,
        };
        assert_eq!(read_head(&mut r, &LIMITS), Ok(get("/")));
    }

    #[test]
    fn a_long_request_line_is_414_before_its_end_arrives() {
        let mut line = b"GET /".to_vec();
        line.resize(10_000, b'a');
        let mut r = Trickle {
            bytes: &line,
            step: 100,
            reads: 0,
        };
        assert_eq!(
            read_head(&mut r, &LIMITS),
            Err(Failure::Refuse(Status::UriTooLong))
        );
        // It stopped reading right after the limit.
        assert_eq!(r.reads, LIMITS.line / 100 + 1);
        // Also when the whole line is there at once.
        assert_eq!(
            head(b"GET /aaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n", &SMALL),
            Err(Failure::Refuse(Status::UriTooLong))
        );
    }

    #[test]
    fn large_headers_are_431() {
        // A header line over the line limit.
        assert_eq!(
            head(b"GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaa\r\n\r\n", &SMALL),
            Err(Failure::Refuse(Status::HeaderFieldsTooLarge))
        );
        // An unfinished one.
        assert_eq!(
            head(b"GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaa", &SMALL),
            Err(Failure::Refuse(Status::HeaderFieldsTooLarge))
        );
        // Too many lines.
        assert_eq!(
            head(
                b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
                &SMALL
            ),
            Err(Failure::Refuse(Status::HeaderFieldsTooLarge))
        );
        // Short lines that add up to more than the head.
        assert_eq!(
            head(
                b"GET / HTTP/1.1\r\nA: 12345678901\r\nB: 12345678901\r\nC: 12345678901\r\n",
                &Limits {
                    headers: 100,
                    ..SMALL
                }
            ),
            Err(Failure::Refuse(Status::HeaderFieldsTooLarge))
        );
        // The real limits: 200 lines of 100 bytes.
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..200 {
            big.extend(format!("X-{i:03}: {}\r\n", "v".repeat(92)).as_bytes());
        }
        big.extend(b"\r\n");
        assert_eq!(
            head(&big, &LIMITS),
            Err(Failure::Refuse(Status::HeaderFieldsTooLarge))
        );
    }

    #[test]
    fn malformed_heads_are_400_or_505() {
        for bad in [
            &b"GET /\r\n\r\n"[..],
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 x\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
            b"GET / FTP/1.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET / HTTP/1.1\r\nSpace : before colon\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: 1\r2\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: \0\r\n\r\n",
        ] {
            assert_eq!(
                head(bad, &LIMITS),
                Err(Failure::Refuse(Status::BadRequest)),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            head(b"GET / HTTP/2.0\r\n\r\n", &LIMITS),
            Err(Failure::Refuse(Status::VersionNotSupported))
        );
    }

    #[test]
    fn a_client_that_stops_is_408_or_gone() {
        let mut r = Trickle {
            bytes: b"GET / HTTP/1.1\r\nHo",
            step: 3,
            reads: 0,
        };
        assert_eq!(
            read_head(&mut r, &LIMITS),
            Err(Failure::Refuse(Status::RequestTimeout))
        );
        assert_eq!(head(b"GET / HTTP/1.1\r\n", &LIMITS), Err(Failure::Gone));
        assert_eq!(head(b"", &LIMITS), Err(Failure::Gone));
    }

    #[test]
    fn responses_carry_length_and_headers_and_head_has_no_body() {
        let mut out = Vec::new();
        respond(
            &mut out,
            Status::Ok,
            "text/plain",
            &[("X-A", "1")],
            b"hello",
            false,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\
             Connection: close\r\nX-A: 1\r\n\r\nhello"
        );
        let mut out = Vec::new();
        respond(&mut out, Status::NotFound, "text/plain", &[], b"nope", true).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("Content-Length: 4\r\nConnection: close\r\n\r\n"));
    }

    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (server, client)
    }

    #[test]
    fn timed_reads_end_at_the_deadline_however_the_bytes_are_paced() {
        let (server, mut client) = pair();
        let trickler = std::thread::spawn(move || {
            // A byte every 50 ms, for longer than the deadline.
            for _ in 0..40 {
                if client.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let start = Instant::now();
        let mut timed = Timed::new(&server, start + Duration::from_millis(400));
        let mut buf = [0u8; 64];
        let err = loop {
            match timed.read(&mut buf) {
                Ok(n) => assert!(n > 0),
                Err(e) => break e,
            }
        };
        let took = start.elapsed();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(took < Duration::from_millis(900), "{took:?}");
        drop(server);
        trickler.join().unwrap();
    }

    #[test]
    fn timed_writes_end_at_the_deadline_when_the_client_does_not_read() {
        let (server, _client) = pair();
        let start = Instant::now();
        let mut timed = Timed::new(&server, start + Duration::from_millis(400));
        let chunk = vec![0u8; 1 << 20];
        let err = loop {
            if let Err(e) = timed.write_all(&chunk) {
                break e;
            }
            assert!(start.elapsed() < Duration::from_secs(5), "never blocked");
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() < Duration::from_millis(900));
    }
}
