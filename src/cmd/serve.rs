//! `syscage serve`: the browser playground, served from the binary.
//!
//! Every file of the page is embedded (the `web/` sources, the simulator's `.wasm`, the
//! builtin profile and a few example traces), so the playground works offline with no
//! other files. `--write DIR` writes the same files out for any static file server.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

/// Serve the browser playground (static files, loopback only by default).
///
/// Examples:
///   syscage serve                      # http://127.0.0.1:8080/
///   syscage serve --port 0             # any free port; the URL is printed
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
    /// Write the playground's files to DIR instead of serving them.
    #[arg(long, value_name = "DIR")]
    write: Option<String>,
}

/// (path, content type, bytes)
fn assets() -> Vec<(&'static str, &'static str, &'static [u8])> {
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
        for (path, _, bytes) in assets() {
            let target = Path::new(dir).join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&target, bytes)
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
        println!("wrote the playground to {dir}/ (open index.html through any static file server)");
        return Ok(ExitCode::SUCCESS);
    }
    let listener = TcpListener::bind((args.bind.as_str(), args.port))
        .with_context(|| format!("cannot listen on {}:{}", args.bind, args.port))?;
    let addr = listener.local_addr()?;
    println!("syscage playground: http://{addr}/  (Ctrl-C to stop)");
    std::io::stdout().flush()?;
    for conn in listener.incoming() {
        let Ok(stream) = conn else { continue };
        std::thread::spawn(move || {
            let _ = handle(stream);
        });
    }
    Ok(ExitCode::SUCCESS)
}

fn handle(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let path = target
        .split(['?', '#'])
        .next()
        .unwrap_or("/")
        .trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"only GET\n",
            method == "HEAD",
        );
    }
    match assets().into_iter().find(|(p, _, _)| *p == path) {
        Some((_, ty, body)) => respond(&mut stream, "200 OK", ty, body, method == "HEAD"),
        None => respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            b"not found\n",
            method == "HEAD",
        ),
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    ty: &str,
    body: &[u8],
    head: bool,
) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {ty}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if !head {
        stream.write_all(body)?;
    }
    stream.flush()
}
