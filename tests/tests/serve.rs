//! `syscage serve` against hostile and ordinary clients: over-long request lines and
//! header blocks, more connections than it serves at once, a client trickling its head
//! one byte at a time, the headers on every response, the files it serves, and the
//! output errors of `--write`.
//!
//! Linux only: the memory checks read `/proc/PID/status`.
//!
//! Each test starts its own server (`--port 0`, the URL read from its first line of
//! output) and kills it when done, also when the test fails.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use syscage_tests::{repo_root, syscage_bin};

/// A running `syscage serve`, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(syscage_bin())
            .args(["serve", "--port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start syscage serve");
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
        // From here on the guard owns the child: a failed parse still kills it.
        let mut server = Server {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
        };
        read.expect("read the server's first line");
        let url = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"));
        server.addr = url.trim_end_matches('/').parse().expect("an address");
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    /// Sends `request` and reads the whole response (up to the server's close).
    fn exchange(&self, request: &[u8]) -> Response {
        let mut s = self.connect();
        s.write_all(request).expect("send the request");
        read_response(&mut s)
    }

    /// The server's resident memory, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Child::kill signals the child's own PID (and reaps it below).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Response {
    /// "HTTP/1.1 200 OK"
    status: String,
    /// Header names lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == &name.to_ascii_lowercase())
            .map(|(_, v)| v.as_str())
    }

    fn code(&self) -> u16 {
        self.status
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no status code in {:?}", self.status))
    }
}

/// Reads to the end of the connection (a reset after the response counts as its end)
/// and splits the response.
fn read_response(s: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset && !raw.is_empty() => break,
            Err(e) => panic!("reading the response: {e} (after {} bytes)", raw.len()),
        }
    }
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_string();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').expect("NAME: value");
            (n.to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    Response {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

fn assert_security_headers(r: &Response) {
    let csp = r
        .header("Content-Security-Policy")
        .unwrap_or_else(|| panic!("no Content-Security-Policy on {}", r.status));
    for directive in [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert_eq!(r.header("X-Frame-Options"), Some("DENY"), "{}", r.status);
    assert_eq!(
        r.header("X-Content-Type-Options"),
        Some("nosniff"),
        "{}",
        r.status
    );
    assert_eq!(
        r.header("Referrer-Policy"),
        Some("no-referrer"),
        "{}",
        r.status
    );
}

/// Sends `total` bytes of `chunk` repeated until the server stops taking them.
/// Returns how many it took before the write failed (or `total`).
fn flood(s: &mut TcpStream, chunk: &[u8], total: usize) -> usize {
    let mut sent = 0;
    while sent < total {
        match s.write(chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    sent
}

const MB: usize = 1 << 20;

#[test]
fn an_over_long_request_line_is_414_and_memory_stays_bounded() {
    let server = Server::start(&[]);
    // Warm up: the pages every response touches are resident before measuring.
    assert_eq!(server.exchange(b"GET / HTTP/1.1\r\n\r\n").code(), 200);
    let before = server.rss_kib();

    // A 9 KiB request line, then nothing.
    let mut line = b"GET /".to_vec();
    line.resize(9 * 1024, b'a');
    let r = server.exchange(&line);
    assert_eq!(r.code(), 414, "{r:?}");
    assert_security_headers(&r);

    // 50 MB of garbage with no line end: the server answers and closes long before.
    let mut s = server.connect();
    let sent = flood(&mut s, &[b'x'; 65536], 50 * MB);
    assert!(
        sent < 40 * MB,
        "the server took {sent} bytes of one request line"
    );
    let after = server.rss_kib();
    eprintln!(
        "server RSS: {before} KiB before, {after} KiB after {:.1} MB of an endless request line",
        sent as f64 / MB as f64
    );
    assert!(
        after < before + 8 * 1024,
        "the server grew from {before} KiB to {after} KiB"
    );
    // It still serves.
    assert_eq!(server.exchange(b"GET / HTTP/1.1\r\n\r\n").code(), 200);
}

#[test]
fn an_over_long_header_block_is_431() {
    let server = Server::start(&[]);
    // 40 header lines of 1 KiB: over 32 KiB in all.
    let mut head = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..40 {
        head.extend(format!("X-Pad-{i:02}: {}\r\n", "a".repeat(1010)).as_bytes());
    }
    head.extend(b"\r\n");
    let r = server.exchange(&head);
    assert_eq!(r.code(), 431, "{r:?}");
    assert_security_headers(&r);
    // 150 short header lines.
    let mut head = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..150 {
        head.extend(format!("X-{i}: 1\r\n").as_bytes());
    }
    head.extend(b"\r\n");
    assert_eq!(server.exchange(&head).code(), 431);
    // One header line over 8 KiB.
    let head = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "b".repeat(9000));
    assert_eq!(server.exchange(head.as_bytes()).code(), 431);

    // Header lines without end: closed early too, memory bounded.
    let before = server.rss_kib();
    let mut s = server.connect();
    s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    let sent = flood(
        &mut s,
        format!("X-A: {}\r\n", "a".repeat(500)).as_bytes(),
        50 * MB,
    );
    assert!(sent < 40 * MB, "the server took {sent} bytes of headers");
    let after = server.rss_kib();
    assert!(
        after < before + 8 * 1024,
        "the server grew from {before} KiB to {after} KiB"
    );
}

#[test]
fn malformed_requests_are_400_and_other_methods_405() {
    let server = Server::start(&[]);
    let r = server.exchange(b"GET / HTTP/1.1 extra\r\n\r\n");
    assert_eq!(r.code(), 400, "{r:?}");
    assert_security_headers(&r);
    let r = server.exchange(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    assert_eq!(r.code(), 405, "{r:?}");
    assert_eq!(r.header("Allow"), Some("GET, HEAD"));
    assert_security_headers(&r);
    let r = server.exchange(b"GET /nothing-here HTTP/1.1\r\n\r\n");
    assert_eq!(r.code(), 404, "{r:?}");
    assert_security_headers(&r);
}

#[test]
fn connections_past_the_limit_are_503_until_one_closes() {
    let server = Server::start(&["--max-connections", "2"]);
    let idle_a = server.connect();
    let _idle_b = server.connect();
    // The third is refused at once, with no request sent.
    let start = Instant::now();
    let mut third = server.connect();
    let r = read_response(&mut third);
    assert_eq!(r.code(), 503, "{r:?}");
    assert_eq!(r.header("Retry-After"), Some("1"));
    assert_security_headers(&r);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // So is one that sends its request.
    assert_eq!(server.exchange(b"GET / HTTP/1.1\r\n\r\n").code(), 503);

    // Once one of the idle connections closes, its place is free again.
    drop(idle_a);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let code = server.exchange(b"GET / HTTP/1.1\r\n\r\n").code();
        if code == 200 {
            break;
        }
        assert_eq!(code, 503);
        assert!(
            Instant::now() < deadline,
            "the closed connection's place was never freed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_trickled_head_is_cut_at_the_deadline() {
    let server = Server::start(&["--request-timeout", "2"]);
    let mut s = server.connect();
    let start = Instant::now();
    s.write_all(b"GET / HTTP/1.1\r\nX-Slow: ").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    // A byte every 300 ms (the read waits that long); collect whatever comes back
    // until the server closes.
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let mut writing = true;
    let closed_after = loop {
        if writing && s.write_all(b"a").is_err() {
            writing = false;
        }
        match s.read(&mut buf) {
            Ok(0) => break start.elapsed(),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break start.elapsed(),
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the trickle kept the connection open for 15 s"
        );
    };
    eprintln!("a trickled head was closed after {closed_after:?}");
    assert!(
        closed_after >= Duration::from_millis(1800),
        "closed after only {closed_after:?}"
    );
    assert!(
        closed_after < Duration::from_millis(3500),
        "closed after {closed_after:?} (deadline 2 s)"
    );
    let r = parse_response(&raw);
    assert_eq!(r.code(), 408, "{r:?}");
    assert_security_headers(&r);
}

#[test]
fn the_files_are_served_with_their_length_and_the_security_headers() {
    let server = Server::start(&[]);
    let dir = std::env::temp_dir().join(format!("syscage-serve-site-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(syscage_bin())
        .args(["serve", "--write"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    for (path, file, content_type) in [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/index.html", "index.html", "text/html; charset=utf-8"),
        ("/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/worker.js", "worker.js", "text/javascript; charset=utf-8"),
        ("/style.css", "style.css", "text/css; charset=utf-8"),
        ("/syscage.wasm", "syscage.wasm", "application/wasm"),
        (
            "/builtin/runtime-default.json?x=1",
            "builtin/runtime-default.json",
            "application/json",
        ),
        (
            "/examples/denied.jsonl",
            "examples/denied.jsonl",
            "text/plain; charset=utf-8",
        ),
    ] {
        let r = server.exchange(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n").as_bytes(),
        );
        assert_eq!(r.code(), 200, "{path}: {r:?}");
        assert_eq!(r.header("Content-Type"), Some(content_type), "{path}");
        let expected = std::fs::read(dir.join(file)).unwrap();
        assert_eq!(
            r.header("Content-Length"),
            Some(expected.len().to_string().as_str()),
            "{path}"
        );
        assert!(r.body == expected, "{path}: the body differs from {file}");
        assert_security_headers(&r);
        // HEAD: the same head, no body.
        let h = server.exchange(format!("HEAD {path} HTTP/1.1\r\n\r\n").as_bytes());
        assert_eq!(h.code(), 200);
        assert_eq!(h.header("Content-Length"), r.header("Content-Length"));
        assert!(h.body.is_empty());
        assert_security_headers(&h);
    }
    assert!(std::fs::read(dir.join("syscage.wasm"))
        .unwrap()
        .starts_with(b"\0asm"));
    // And what `--write` wrote is the repository's page.
    assert_eq!(
        std::fs::read(dir.join("index.html")).unwrap(),
        std::fs::read(repo_root().join("web/index.html")).unwrap()
    );
    // What a browser sends: an HTTP/1.0 request, or a blank line first, also work.
    assert_eq!(server.exchange(b"GET / HTTP/1.0\r\n\r\n").code(), 200);
    assert_eq!(server.exchange(b"\r\nGET / HTTP/1.1\n\n").code(), 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn write_errors_exit_2_naming_the_file() {
    let out = Command::new(syscage_bin())
        .args(["serve", "--write", "/dev/full/x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/dev/full/x"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // A file the output cannot replace: a directory where index.html goes.
    let dir = std::env::temp_dir().join(format!("syscage-serve-blocked-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("index.html")).unwrap();
    let out = Command::new(syscage_bin())
        .args(["serve", "--write"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot write {}",
            dir.join("index.html").display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A standard output whose reader is already gone, like `| head -c0` once head has
/// exited: writing to it fails with EPIPE.
fn closed_output() -> Stdio {
    let (writer, reader) = UnixStream::pair().unwrap();
    drop(reader);
    Stdio::from(OwnedFd::from(writer))
}

#[test]
fn a_closed_standard_output_is_not_a_panic() {
    let dir = std::env::temp_dir().join(format!("syscage-serve-pipe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(syscage_bin())
        .args(["serve", "--write"])
        .arg(&dir)
        .stdout(closed_output())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(dir.join("syscage.wasm").is_file());
    let _ = std::fs::remove_dir_all(&dir);

    // The server's own first line, likewise: it ends quietly rather than serve a URL
    // nobody saw.
    let mut child = Command::new(syscage_bin())
        .args(["serve", "--port", "0"])
        .stdout(closed_output())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let waited = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if waited.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("syscage serve (pid {pid}) kept running with its output closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
