//! Opening the files a user names, with bounds: what may be read, and how much of it.
//!
//! Every input file goes through here. A path must name a regular file (a symlink to
//! one is fine): FIFOs, devices, sockets and directories are refused before they are
//! opened — opening a FIFO blocks, `/dev/zero` never ends — unless the user passes
//! `--allow-special-files`; `-` is standard input wherever a command reads a stream.
//! A file read whole is read up to a limit per [`Kind`] (`--max-input` raises it), and
//! reading stops at the limit with an error naming the file, so a huge or endless input
//! costs at most the limit. Traces are not read whole: `check` streams them (see
//! `cmd::check`), and this module only opens them.
//!
//! It does not parse anything (that is `load` and the core's readers) and does not
//! decide what a command reads.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};

/// What an input file is, for its size limit and for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A seccomp profile (OCI, Docker, OCI bundle, seccompiler JSON).
    Profile,
    /// A raw filter (`.bpf`): 8 bytes an instruction, at most 4,096 instructions.
    Bpf,
    /// A Kubernetes, OpenShift or Marathon manifest.
    Manifest,
    /// A BPF listing for `syscage asm`.
    Listing,
    /// A syscall trace (opened for streaming; never read whole).
    Trace,
    /// Output of `syscage audit` / `syscage fuzz` for `syscage report` (streamed).
    Log,
}

impl Kind {
    /// The default limit: generous for anything a person writes or a tool generates,
    /// small against the machine.
    pub const fn default_limit(self) -> u64 {
        match self {
            Kind::Profile => 64 << 20,
            // 4,096 instructions of 8 bytes is 32 KiB; a little room for a longer
            // file, which the reader then refuses by its instruction count.
            Kind::Bpf => 1 << 20,
            Kind::Manifest | Kind::Listing => 16 << 20,
            Kind::Trace | Kind::Log => u64::MAX,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Profile => "profile",
            Kind::Bpf => "raw filter",
            Kind::Manifest => "manifest",
            Kind::Listing => "listing",
            Kind::Trace => "trace",
            Kind::Log => "log",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Kind::Profile => "profiles",
            Kind::Bpf => "raw filters",
            Kind::Manifest => "manifests",
            Kind::Listing => "listings",
            Kind::Trace => "traces",
            Kind::Log => "logs",
        }
    }
}

/// What the user allowed on the command line (global flags).
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `--max-input`: replaces every kind's default limit.
    pub max_input: Option<u64>,
    /// `--allow-special-files`: read FIFOs and devices too (still within the limit).
    pub allow_special: bool,
}

static OPTIONS: OnceLock<Options> = OnceLock::new();

/// Sets the options once, at start-up (later calls are ignored).
pub fn configure(options: Options) {
    let _ = OPTIONS.set(options);
}

fn options() -> Options {
    OPTIONS.get().copied().unwrap_or_default()
}

/// The limit in force for `kind`.
pub fn limit(kind: Kind) -> u64 {
    match (options().max_input, kind) {
        // Traces are streamed: --max-input does not cap them.
        (_, Kind::Trace | Kind::Log) => u64::MAX,
        (Some(max), _) => max,
        (None, k) => k.default_limit(),
    }
}

/// Why a path cannot be read as an input file.
#[derive(Debug)]
enum Refusal {
    Missing(std::io::Error),
    Directory,
    Special(&'static str),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing(e) if e.kind() == std::io::ErrorKind::NotFound => {
                f.write_str("does not exist")
            }
            Refusal::Missing(e) => write!(f, "cannot be read: {e}"),
            Refusal::Directory => f.write_str("is a directory"),
            Refusal::Special(what) => write!(
                f,
                "is {what}, not a regular file (pass --allow-special-files to read it anyway)"
            ),
        }
    }
}

/// Checks, without opening it, that `path` may be read; its metadata if so.
fn admissible(path: &str) -> std::result::Result<std::fs::Metadata, Refusal> {
    let meta = std::fs::metadata(path).map_err(Refusal::Missing)?;
    let ty = meta.file_type();
    if ty.is_file() {
        return Ok(meta);
    }
    if ty.is_dir() {
        return Err(Refusal::Directory);
    }
    if options().allow_special {
        return Ok(meta);
    }
    Err(Refusal::Special(special_kind(&ty)))
}

#[cfg(unix)]
fn special_kind(ty: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ty.is_fifo() {
        "a FIFO"
    } else if ty.is_char_device() {
        "a character device"
    } else if ty.is_block_device() {
        "a block device"
    } else if ty.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// Why `path` cannot be read, for a caller that checks first (`None` if it can).
pub fn refusal(path: &str) -> Option<String> {
    admissible(path).err().map(|r| r.to_string())
}

/// Opens `path` for streaming (`-` is standard input).
pub fn open(path: &str, kind: Kind) -> Result<Box<dyn Read + Send>> {
    Ok(open_with_metadata(path, kind)?.0)
}

/// [`open`], and the file's metadata (`None` for standard input).
fn open_with_metadata(
    path: &str,
    kind: Kind,
) -> Result<(Box<dyn Read + Send>, Option<std::fs::Metadata>)> {
    if path == "-" {
        return Ok((Box::new(std::io::stdin()), None));
    }
    let meta = admissible(path)
        .map_err(|r| anyhow::anyhow!("cannot read {} {path:?}: {r}", kind.noun()))?;
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot read {} {path:?}", kind.noun()))?;
    Ok((Box::new(f), Some(meta)))
}

/// Reads `path` whole (`-` is standard input), up to the limit for `kind`.
pub fn read(path: &str, kind: Kind) -> Result<Vec<u8>> {
    let limit = limit(kind);
    let (mut reader, meta) = open_with_metadata(path, kind)?;
    let mut bytes = Vec::new();
    if let Some(meta) = meta.filter(|m| m.is_file()) {
        if meta.len() > limit {
            bail!(too_big(path, kind, limit, Some(meta.len())));
        }
        bytes.reserve(meta.len().min(limit) as usize);
    }
    reader
        .by_ref()
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {} {path:?}", kind.noun()))?;
    if bytes.len() as u64 > limit {
        bail!(too_big(path, kind, limit, None));
    }
    Ok(bytes)
}

/// Reads `path` whole as UTF-8 text; invalid UTF-8 is an error naming its line and
/// column (1-based; the column counts characters).
pub fn read_text(path: &str, kind: Kind) -> Result<String> {
    let bytes = read(path, kind)?;
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // Valid up to there by construction.
        let good = std::str::from_utf8(good).unwrap_or_default();
        let (line, column) = syscage_core::profile::line_col(good, good.len());
        anyhow::anyhow!(
            "{}:{line}:{column}: the {} is not valid UTF-8",
            display_name(path),
            kind.noun()
        )
    })
}

/// `-` is shown as `<stdin>`.
pub fn display_name(path: &str) -> &str {
    if path == "-" {
        "<stdin>"
    } else {
        path
    }
}

/// `size`: the file's size when known (a regular file); reading stopped at the limit
/// otherwise.
fn too_big(path: &str, kind: Kind, limit: u64, size: Option<u64>) -> String {
    let size = match size {
        Some(n) => human(n),
        None => format!("more than {}", human(limit)),
    };
    format!(
        "{}: {size}, over the limit of {} for {} (--max-input SIZE raises it)",
        display_name(path),
        human(limit),
        kind.plural()
    )
}

/// `64 MiB`, `1.5 GiB`, `512 bytes`.
pub fn human(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (name, size) in UNITS {
        if bytes >= size {
            let whole = bytes / size;
            let tenth = (bytes % size) * 10 / size;
            return if tenth == 0 {
                format!("{whole} {name}")
            } else {
                format!("{whole}.{tenth} {name}")
            };
        }
    }
    format!("{bytes} bytes")
}

/// `512` (MiB), `512M`, `2G`, `65536K`, `1GiB`: a size in bytes (at least 1).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || format!("{s:?}: expected a size such as 512, 512M or 2G");
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "M"),
    };
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "K" => 10,
        "M" | "" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(bad()),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let bytes = n
        .checked_shl(shift)
        .filter(|b| b >> shift == n)
        .ok_or_else(|| format!("{s:?}: too large"))?;
    if bytes == 0 {
        return Err(format!("{s:?}: must be at least 1 byte"));
    }
    Ok(bytes)
}

/// Whether `p` exists at all (for `FILE#NAME` splitting and messages; not a promise
/// that it can be read).
pub fn exists(p: &str) -> bool {
    Path::new(p).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512"), Ok(512 << 20));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1 MB"), Ok(1 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("99999999999999T").is_err());
        assert_eq!(human(64 << 20), "64 MiB");
        assert_eq!(human(1536 << 20), "1.5 GiB");
        assert_eq!(human(100), "100 bytes");
    }

    #[test]
    fn utf8_positions_count_characters() {
        let p = std::env::temp_dir().join(format!("syscage-input-{}.txt", std::process::id()));
        std::fs::write(&p, b"ab\nc\xc3\xa9\xff").unwrap();
        let e = read_text(p.to_str().unwrap(), Kind::Listing)
            .unwrap_err()
            .to_string();
        let _ = std::fs::remove_file(&p);
        assert!(e.ends_with(":2:3: the listing is not valid UTF-8"), "{e}");
    }

    #[test]
    fn special_files_are_refused_before_opening() {
        // /dev/null: a character device on every Linux; reading it would not block,
        // but it is still not a regular file.
        if Path::new("/dev/null").exists() {
            let e = read("/dev/null", Kind::Profile).unwrap_err().to_string();
            assert!(e.contains("character device"), "{e}");
        }
        let dir = std::env::temp_dir();
        let e = read(dir.to_str().unwrap(), Kind::Profile)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a directory"), "{e}");
    }
}
