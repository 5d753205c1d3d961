//! `syscage serve`: the browser playground, served from the binary.
//!
//! Every file of the page is embedded (the `web/` sources, the simulator's `.wasm`, the
//! builtin profile and a few example traces), so the playground works offline with no
//! other files. `--write DIR` writes the same files out for any static file server.
//! This module owns what is served and the accept loop (connection limit, deadlines,
//! security headers); [`http`] owns the bounded reading and writing of HTTP.

mod http;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use http::{Failure, Request, Status};

/// Serve the browser playground (static files, loopback only by default).
///
/// The server answers GET and HEAD for its embedded files, one request per connection,
/// and bounds what a client can hold: at most --max-connections connections at once
/// (more are answered 503); a request line of at most 8 KiB (414) and a request head of
/// at most 32 KiB and 100 header lines (431), all of it within 10 s of connecting (408);
/// a response that is not taken within 60 s is abandoned.
///
/// Every response carries these headers; a server serving the files of --write should
/// send them too (and syscage.wasm as application/wasm):
///   Content-Security-Policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval';
///     object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'
///   X-Frame-Options: DENY
///   X-Content-Type-Options: nosniff
///   Referrer-Policy: no-referrer
///
/// Examples:
///   syscage serve                      # http://127.0.0.1:8080/
///   syscage serve --port 0             # any free port; the URL is printed
///   syscage serve --max-connections 8  # fewer connections at once
///   syscage serve --write site/        # the static files, for any web server
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on. The default keeps the playground on this machine.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Connections served at once; more are answered 503 Service Unavailable.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 32,
        value_parser = clap::value_parser!(u32).range(1..=10_000)
    )]
    max_connections: u32,
    /// Seconds a client has, from connecting, to send its request head (tests shorten it).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10,
        hide = true,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    request_timeout: u64,
    /// Write the playground's files to DIR instead of serving them.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["port", "bind", "max_connections", "request_timeout"]
    )]
    write: Option<String>,
}

/// The Content-Security-Policy of every response. The page loads its own module script,
/// style sheet and worker, fetches its own files, and compiles `syscage.wasm` (which
/// needs `'wasm-unsafe-eval'`, and nothing more: no inline script or style, no `eval`,
/// no blob: or data: URLs).
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                   object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Headers on every response, whatever its status.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
];

/// How long a client has to take a whole response once it starts.
const RESPONSE_TIME: Duration = Duration::from_secs(60);

/// After a failed `accept` (out of file descriptors, say), a pause before the next one,
/// so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// One embedded file: (path, content type, bytes).
type Asset = (String, &'static str, std::borrow::Cow<'static, [u8]>);

/// The playground's files, made once: the web page, the guest, the bundled examples,
/// and every builtin profile's text (`builtin/runtime-default.json`,
/// `builtin/containerd-default@1.6.json`, ...), which the profile menu shows.
fn assets() -> &'static [Asset] {
    static ASSETS: std::sync::OnceLock<Vec<Asset>> = std::sync::OnceLock::new();
    ASSETS.get_or_init(|| {
        let mut all: Vec<Asset> = static_assets()
            .into_iter()
            .map(|(p, t, b)| (p.to_string(), t, std::borrow::Cow::Borrowed(b)))
            .collect();
        for d in syscage_core::builtin::catalog::DEFAULTS {
            all.push((
                format!("builtin/{}.json", d.name().replace('/', "-")),
                "application/json",
                std::borrow::Cow::Owned(d.text().into_bytes()),
            ));
        }
        all
    })
}

/// (path, content type, bytes) of the files embedded as they are.
fn static_assets() -> Vec<(&'static str, &'static str, &'static [u8])> {
    vec![
        (
            "index.html",
            "text/html; charset=utf-8",
            include_bytes!("../../web/index.html"),
        ),
        (
            "style.css",
            "text/css; charset=utf-8",
            include_bytes!("../../web/style.css"),
        ),
        (
            "app.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../web/app.js"),
        ),
        (
            "worker.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../web/worker.js"),
        ),
        (
            "syscage.wasm",
            "application/wasm",
            syscage_simulator::GUEST_WASM,
        ),
        (
            "builtin/runtime-default.json",
            "application/json",
            syscage_core::builtin::RUNTIME_DEFAULT_JSON.as_bytes(),
        ),
        (
            "examples/curl-version.strace",
            "text/plain; charset=utf-8",
            include_bytes!("../../examples/curl-version.strace"),
        ),
        (
            "examples/python3-pass.strace",
            "text/plain; charset=utf-8",
            include_bytes!("../../examples/python3-pass.strace"),
        ),
        (
            "examples/denied.jsonl",
            "text/plain; charset=utf-8",
            include_bytes!("../../examples/denied.jsonl"),
        ),
    ]
}

pub fn run(args: Args) -> Result<ExitCode> {
    if let Some(dir) = &args.write {
        return write_site(Path::new(dir));
    }
    let listener = TcpListener::bind((args.bind.as_str(), args.port))
        .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
    let addr = listener.local_addr()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "syscage playground: http://{addr}/  (Ctrl-C to stop)")?;
    out.flush()?;
    drop(out);
    serve(
        &listener,
        args.max_connections as usize,
        Duration::from_secs(args.request_timeout),
    );
}

/// `--write DIR`: the embedded files, as files.
fn write_site(dir: &Path) -> Result<ExitCode> {
    let files = assets();
    for (path, _, bytes) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, bytes.as_ref())
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "wrote the playground's {} files to {} (serve them with the headers \
         `syscage serve --help` lists)",
        files.len(),
        dir.display()
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// One of the `max` connections served at once; dropping it frees the place.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(active: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        if active.fetch_add(1, Ordering::AcqRel) < max {
            Some(Slot(Arc::clone(active)))
        } else {
            active.fetch_sub(1, Ordering::AcqRel);
            None
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The accept loop: a thread for each connection within the limit, an immediate 503
/// from this thread for the others.
fn serve(listener: &TcpListener, max_connections: usize, request_timeout: Duration) -> ! {
    let active = Arc::new(AtomicUsize::new(0));
    let busy = busy_response();
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) => {
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::Interrupted | std::io::ErrorKind::ConnectionAborted
                ) {
                    std::thread::sleep(ACCEPT_BACKOFF);
                }
                continue;
            }
        };
        let accepted = Instant::now();
        let Some(slot) = Slot::take(&active, max_connections) else {
            http::refuse_now(&stream, &busy);
            continue;
        };
        // If the thread cannot be created, the closure is dropped with the slot and
        // the stream: the place is freed and the connection closed.
        let _ = std::thread::Builder::new()
            .name("serve-conn".into())
            .spawn(move || {
                let _slot = slot;
                handle(&stream, accepted + request_timeout);
            });
    }
}

/// The complete 503 response for connections over the limit.
fn busy_response() -> Vec<u8> {
    let mut out = Vec::new();
    let mut headers = SECURITY_HEADERS.to_vec();
    headers.push(("Retry-After", "1"));
    http::respond(
        &mut out,
        Status::ServiceUnavailable,
        "text/plain; charset=utf-8",
        &headers,
        b"too many connections at once; try again\n",
        false,
    )
    .expect("writing to a Vec cannot fail");
    out
}

/// One connection: its request head must be complete by `head_deadline`.
fn handle(stream: &TcpStream, head_deadline: Instant) {
    let head = http::read_head(&mut http::Timed::new(stream, head_deadline), &http::LIMITS);
    let mut out = http::Timed::new(stream, Instant::now() + RESPONSE_TIME);
    let written = match head {
        Ok(request) => answer(&mut out, &request),
        Err(Failure::Refuse(status)) => refuse(&mut out, status, &[], false),
        Err(Failure::Gone) => return,
    };
    if written.is_ok() {
        http::close(stream);
    }
}

/// The response to a well-formed request.
fn answer<W: Write>(out: &mut W, request: &Request) -> std::io::Result<()> {
    let head_only = request.method == "HEAD";
    if request.method != "GET" && !head_only {
        return refuse(
            out,
            Status::MethodNotAllowed,
            &[("Allow", "GET, HEAD")],
            false,
        );
    }
    let Some(path) = request.target.strip_prefix('/') else {
        return refuse(out, Status::BadRequest, &[], head_only);
    };
    let path = path.split('?').next().unwrap_or("").trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match assets().iter().find(|(p, _, _)| p == path) {
        Some((_, content_type, body)) => {
            let mut headers = SECURITY_HEADERS.to_vec();
            headers.push(("Cache-Control", "no-cache"));
            http::respond(out, Status::Ok, content_type, &headers, body, head_only)
        }
        None => refuse(out, Status::NotFound, &[], head_only),
    }
}

/// An error response: the status line as a plain-text body.
fn refuse<W: Write>(
    out: &mut W,
    status: Status,
    extra: &[(&str, &str)],
    head_only: bool,
) -> std::io::Result<()> {
    let mut headers = SECURITY_HEADERS.to_vec();
    headers.extend_from_slice(extra);
    let body = format!("{}\n", status.line());
    http::respond(
        out,
        status,
        "text/plain; charset=utf-8",
        &headers,
        body.as_bytes(),
        head_only,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(method: &str, target: &str) -> String {
        let mut out = Vec::new();
        let request = Request {
            method: method.into(),
            target: target.into(),
        };
        answer(&mut out, &request).unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn routes_the_embedded_files() {
        let index = get("GET", "/");
        assert!(index.starts_with("HTTP/1.1 200 OK\r\n"), "{index}");
        assert!(index.contains("Content-Type: text/html; charset=utf-8\r\n"));
        assert!(index.ends_with("</html>\n"), "{index}");
        let wasm = get("HEAD", "/syscage.wasm?v=1");
        assert!(wasm.contains("Content-Type: application/wasm\r\n"));
        assert!(wasm.contains(&format!(
            "Content-Length: {}\r\n",
            syscage_simulator::GUEST_WASM.len()
        )));
        assert!(wasm.ends_with("\r\n\r\n"), "HEAD has no body");
        assert!(get("GET", "/examples/denied.jsonl").starts_with("HTTP/1.1 200 OK"));
        assert!(get("GET", "/../Cargo.toml").starts_with("HTTP/1.1 404 Not Found"));
        assert!(get("GET", "http://x/").starts_with("HTTP/1.1 400 Bad Request"));
        let post = get("POST", "/");
        assert!(post.starts_with("HTTP/1.1 405 Method Not Allowed"));
        assert!(post.contains("\r\nAllow: GET, HEAD\r\n"));
    }

    #[test]
    fn the_profile_menu_offers_every_engine_default_and_its_text() {
        let index = get("GET", "/");
        for d in syscage_core::builtin::catalog::DEFAULTS {
            let name = d.name();
            assert!(
                index.contains(&format!("<option value=\"{name}\">")),
                "{name} is not in the playground's profile menu"
            );
            let text = get("GET", &format!("/builtin/{}.json", name.replace('/', "-")));
            assert!(text.starts_with("HTTP/1.1 200 OK"), "{name}: {text}");
            assert!(
                text.ends_with(&d.text()),
                "{name}: the served text is the builtin's"
            );
        }
    }

    #[test]
    fn every_response_carries_the_security_headers() {
        let busy = String::from_utf8(busy_response()).unwrap();
        assert!(
            busy.starts_with("HTTP/1.1 503 Service Unavailable"),
            "{busy}"
        );
        let mut timeout = Vec::new();
        refuse(&mut timeout, Status::RequestTimeout, &[], false).unwrap();
        let timeout = String::from_utf8(timeout).unwrap();
        for response in [
            get("GET", "/"),
            get("GET", "/nope"),
            get("PUT", "/"),
            timeout,
            busy,
        ] {
            for (name, value) in SECURITY_HEADERS {
                assert!(
                    response.contains(&format!("\r\n{name}: {value}\r\n")),
                    "{name} missing from {response}"
                );
            }
        }
    }

    #[test]
    fn the_help_lists_the_headers_a_static_server_should_send() {
        let mut cmd = <Args as clap::Args>::augment_args(clap::Command::new("serve"));
        let help = cmd.render_long_help().to_string();
        for (name, value) in SECURITY_HEADERS {
            assert!(help.contains(name), "{name} missing from the help");
            for part in value.split("; ") {
                assert!(help.contains(part), "{part} missing from the help");
            }
        }
    }

    #[test]
    fn slots_are_limited_and_freed_on_drop() {
        let active = Arc::new(AtomicUsize::new(0));
        let a = Slot::take(&active, 2).unwrap();
        let b = Slot::take(&active, 2).unwrap();
        assert!(Slot::take(&active, 2).is_none());
        assert_eq!(active.load(Ordering::Acquire), 2);
        drop(a);
        let c = Slot::take(&active, 2).unwrap();
        drop((b, c));
        assert_eq!(active.load(Ordering::Acquire), 0);
    }
}
