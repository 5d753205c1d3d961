//! Complain mode: a command runs under profiles that stop nothing, and every call they
//! would have stopped is seen, decided twice (by the kernel, and by syscage's reference
//! engine, which names the rule), and handed to the caller.
//!
//! Each profile's compiled filter is installed transformed
//! ([`syscage_core::bpf::permissive`]: every stopping return becomes
//! `RET_TRACE|WOULD_DENY`), under the [`crate::record`] tracer, which resumes each such
//! stop as if the call were allowed. So the kernel runs the profile's own instructions
//! and says which calls they stop; the reference engine ([`Stack`]) says why. The two
//! must agree on every call ([`Seen::agrees`]): a disagreement is a bug in syscage, and
//! the caller says so.
//!
//! With `all`, a filter that traces every call (data 0) is installed first, oldest,
//! so every call stops and is handed over: the kernel's tie rule between RET_TRACEs
//! (the newest filter's data wins) then marks the calls a profile would stop with its
//! data, the others with 0. That is the whole trace, with the kernel's verdicts on it.
//!
//! Not modelled here: the install flags the runtime would use (TSYNC, LOG, SPEC_ALLOW)
//! change nothing in complain mode; NOTIFY profiles become TRACE like every other stop.

use std::ffi::OsString;
use std::io;

use syscage_core::bpf::permissive::{permissive, PermissiveError, WOULD_DENY};
use syscage_core::bpf::Program;
use syscage_core::eval::{Outcome as Verdicts, Stack};
use syscage_core::event::Event;
use syscage_core::policy::Policy;

use crate::record::{self, Outcome, RecordError, RecordKind, RecordOptions, Recorded};

/// One call the tracer saw, with both verdicts.
pub struct Seen<'r> {
    pub recorded: &'r Recorded,
    pub event: Event,
    /// The kernel ran the transformed filters and they stopped the call.
    pub kernel_would_deny: bool,
    /// The reference engine on the stack of policies.
    pub verdicts: Verdicts,
}

impl Seen<'_> {
    /// Whether the reference engine would deny (in the worst case of unknown arguments).
    pub fn would_deny(&self) -> bool {
        !self.verdicts.worst().permits()
    }

    /// Whether the kernel and the reference engine agree on this call.
    pub fn agrees(&self) -> bool {
        self.kernel_would_deny == self.would_deny()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ComplainError {
    #[error("{profile}: {error}")]
    Transform {
        profile: String,
        error: PermissiveError,
    },
    #[error(transparent)]
    Record(#[from] RecordError),
}

impl ComplainError {
    /// The exit status a shell would use (see [`RecordError::exit_code`]); 125 when a
    /// filter cannot be made permissive (nothing ran).
    pub fn exit_code(&self) -> u8 {
        match self {
            ComplainError::Transform { .. } => 125,
            ComplainError::Record(e) => e.exit_code(),
        }
    }
}

/// Runs `argv` under `programs` (the compiled filters of `policies`, oldest first) in
/// complain mode, following its children; `sink` gets every call the filters would
/// stop (every call, with `all`) and the exec and exit records. Returns how the
/// command ended.
pub fn run(
    argv: &[OsString],
    policies: &[Policy],
    programs: &[Program],
    all: bool,
    sink: &mut dyn FnMut(Seen<'_>) -> io::Result<()>,
    other: &mut dyn FnMut(&Recorded) -> io::Result<()>,
) -> Result<Outcome, ComplainError> {
    let mut filters = Vec::with_capacity(programs.len() + 1);
    if all {
        filters.push(record::trace_all());
    }
    for (p, prog) in policies.iter().zip(programs) {
        filters.push(permissive(prog).map_err(|error| ComplainError::Transform {
            profile: p.source.clone(),
            error,
        })?);
    }
    let opts = RecordOptions {
        follow: true,
        returns: false,
        filters,
    };
    let stack = Stack::new(policies);
    // The calls before the command's execve are the recorder's child installing the
    // later filters (the earlier ones already see them): not the command's.
    let mut started = false;
    let mut each = |r: &Recorded| -> io::Result<()> {
        let (RecordKind::Syscall, Some(event)) = (&r.kind, r.event()) else {
            started |= matches!(r.kind, RecordKind::Exec { .. });
            return other(r);
        };
        // The command's own execve (reported before its exec record) starts it too.
        started |= event.sys.name() == Some("execve");
        if !started {
            return Ok(());
        }
        let verdicts = stack.evaluate(&event);
        sink(Seen {
            recorded: r,
            event,
            kernel_would_deny: r.trace_data == WOULD_DENY,
            verdicts,
        })
    };
    Ok(record::record_command(argv, &opts, &mut each)?)
}
