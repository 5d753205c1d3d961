//! `syscage record`: run a command (or attach to a process) and write every syscall it
//! makes as a trace that `check` reads.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use syscage_core::arch::Arch;
use syscage_core::trace::jsonl;
use syscage_core::trace::record::{signal_text, StraceWriter};
use syscage_enforcer::record::{self, Outcome, RecordError, RecordKind, RecordOptions, Recorded};

/// Record the syscalls a program makes, as a trace `check` reads.
///
/// Runs the command under ptrace and a seccomp filter that stops it at each syscall,
/// and writes one line a call with what a seccomp filter sees: arch (x86_64, x86 for
/// i386 calls, x32), name and number, the six raw arguments, pid, thread, instruction
/// pointer, and the return value. Lines marking each exec and each process's exit are
/// written too; readers skip them. Nothing is read from the program's memory.
///
/// The command runs as it would without syscage, and syscage ends as it ends: exit N
/// makes syscage exit N, a fatal signal kills syscage with the same signal. Ctrl-C
/// reaches it through the terminal (syscage itself ignores SIGINT, SIGQUIT, SIGTERM and
/// SIGHUP meanwhile). If recording cannot start (the output cannot be opened, the
/// filter cannot be installed) the command does not run: syscage exits 125 (126 when
/// it cannot be executed, 127 when it is not found). Running without CAP_SYS_ADMIN,
/// syscage sets no_new_privs for the command, so setuid bits do nothing for it. If
/// the trace cannot be written the command is killed and syscage exits 2 (a closed
/// pipe: exit 0, as `check | head` does).
///
/// Each call costs the program two ptrace stops, one with --no-returns; children are
/// traced whether or not -f records them (they inherit the filter).
///
/// --pid attaches to a running process instead (every thread), stopping at each
/// syscall's entry and exit (no filter can be added to a running process, so
/// --no-returns saves nothing there). Ctrl-C
/// (SIGINT, SIGTERM, SIGHUP, SIGQUIT) detaches and leaves the process running.
///
/// Examples:
///   syscage record -o ls.jsonl -- ls /
///   syscage check -p runtime/default ls.jsonl
///   syscage record -f --format strace -o build.strace -- make -j2
///   syscage record -f --pid 1234 -o server.jsonl      (Ctrl-C to stop)
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Write the trace to FILE (created or truncated) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// jsonl: one JSON object a line. strace: `PID  [IP] name(0x.., ...) = RET`, as
    /// `strace -f -i -X raw` writes, with all six arguments (the PID column is the
    /// thread).
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
    /// Record child processes (forks, vforks, clones) too, not only the command's
    /// own process and threads.
    #[arg(long, short = 'f')]
    follow: bool,
    /// Don't stop at each call's exit: no return values, half the stops.
    #[arg(long)]
    no_returns: bool,
    /// Attach to this running process instead of running a command.
    #[arg(long, value_name = "PID", conflicts_with = "command")]
    pid: Option<u32>,
    /// The command and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD",
        required_unless_present = "pid"
    )]
    command: Vec<OsString>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Jsonl,
    Strace,
}

/// What the summary line counts.
#[derive(Default)]
struct Counts {
    syscalls: u64,
    processes: HashSet<u32>,
    execs: u64,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let opts = RecordOptions {
        follow: args.follow,
        returns: !args.no_returns,
        filters: Vec::new(),
    };
    let what = match (args.pid, args.command.first()) {
        (Some(pid), _) => format!("process {pid}"),
        (None, Some(cmd)) => cmd.to_string_lossy().into_owned(),
        (None, None) => "the command".into(),
    };
    let mut out = match &args.output {
        Some(path) => match File::create(path) {
            Ok(f) => Named::new(Box::new(f), path.display().to_string()),
            Err(e) => {
                let (not_run, code) = match args.pid {
                    None => ("; the command was not run", 125),
                    Some(_) => ("; nothing was attached", 2),
                };
                eprintln!(
                    "syscage: record: cannot open {}: {e}{not_run}",
                    path.display()
                );
                return Ok(ExitCode::from(code));
            }
        },
        None => Named::new(Box::new(io::stdout().lock()), "standard output".into()),
    };
    let mut counts = Counts::default();
    let outcome = match record(&args, &opts, &mut out, &mut counts) {
        Ok(outcome) => outcome,
        Err(RecordError::Output(e)) => {
            let left = if args.pid.is_some() {
                "detached from it"
            } else {
                "it was killed"
            };
            // An io::Error in the chain: a closed pipe ends quietly (see main).
            return Err(anyhow::Error::new(e).context(format!("recording {what} stopped ({left})")));
        }
        Err(e) => return Ok(failed(&e, &args)),
    };
    // The program has ended (or runs on, detached): only the trace's end is lost.
    out.flush()?;
    let ended = match outcome {
        Outcome::Exited(c) => format!("{what} exited {c}"),
        Outcome::Signaled { signal, core } => format!(
            "{what} was killed by {}{}",
            signal_text(signal),
            if core { " (core dumped)" } else { "" }
        ),
        Outcome::Detached => format!("detached from {what}, which runs on"),
    };
    eprintln!(
        "syscage: record: recorded {} syscall{} from {} process{}, {} exec{}; {ended}",
        counts.syscalls,
        if counts.syscalls == 1 { "" } else { "s" },
        counts.processes.len(),
        if counts.processes.len() == 1 {
            ""
        } else {
            "es"
        },
        counts.execs,
        if counts.execs == 1 { "" } else { "s" },
    );
    Ok(exit_as(outcome))
}

/// Ends as the traced program ended: its exit code, or its fatal signal re-raised on
/// syscage (128 + the signal if that returns).
pub fn exit_as(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Exited(c) => ExitCode::from(c as u8),
        Outcome::Signaled { signal, .. } => {
            record::reraise(signal);
            ExitCode::from(128u8.wrapping_add(signal as u8))
        }
        Outcome::Detached => ExitCode::SUCCESS,
    }
}

/// Records into `out`, counting.
fn record(
    args: &Args,
    opts: &RecordOptions,
    out: &mut Named,
    counts: &mut Counts,
) -> Result<Outcome, RecordError> {
    let mut line = String::with_capacity(256);
    let mut strace = StraceWriter::new(Arch::X86_64);
    let format = args.format;
    let mut sink = |r: &Recorded| -> io::Result<()> {
        line.clear();
        match format {
            Format::Jsonl => jsonl::write_record(&mut line, r),
            Format::Strace => strace.write(&mut line, r),
        }
        match r.kind {
            RecordKind::Syscall => {
                counts.syscalls += 1;
                counts.processes.insert(r.pid);
            }
            RecordKind::Exec { .. } => counts.execs += 1,
            RecordKind::Exit { .. } => {}
        }
        out.write_all(line.as_bytes())
    };
    match args.pid {
        Some(pid) => record::record_pid(pid, opts, &mut sink),
        None => record::record_command(&args.command, opts, &mut sink),
    }
}

/// Says why nothing (or not all) was recorded; the exit status a shell would use.
fn failed(e: &RecordError, args: &Args) -> ExitCode {
    let code = e.exit_code();
    let tail = if code == 125 && args.pid.is_none() {
        "; the command was not run"
    } else {
        ""
    };
    eprintln!("syscage: record: {e}{tail}");
    ExitCode::from(code)
}

/// The trace's destination, buffered; its write errors name it ("cannot write to
/// standard output: No space left on device").
struct Named {
    inner: BufWriter<Box<dyn Write>>,
    name: String,
}

impl Named {
    fn new(w: Box<dyn Write>, name: String) -> Named {
        Named {
            inner: BufWriter::with_capacity(64 << 10, w),
            name,
        }
    }

    fn named(&self, e: io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("cannot write to {}: {e}", self.name))
    }
}

impl Write for Named {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.named(e))
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf).map_err(|e| self.named(e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| self.named(e))
    }
}
