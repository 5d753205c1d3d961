//! Findings about a profile or a raw filter, for review: each with a stable id, a
//! severity, the place (file:line:column and JSON pointer, or an instruction), why it
//! matters and how to fix it. The catalog is [`RULES`]; [`profile`] checks a profile
//! (with the policy it resolves to for the target), [`program`] a raw filter, and
//! [`sarif`] writes findings as SARIF 2.1.0 for code scanning.
//!
//! The checks reuse the semantics the rest of syscage has (the resolver's conditions,
//! the interpreter on probe events); none is a text match on the JSON. This module does
//! not read files or decide exit statuses.

mod profile_checks;
mod raw_checks;
pub mod sarif;

use crate::profile::Location;

pub use profile_checks::profile;
pub use raw_checks::program;

/// How much a finding matters (SARIF's `level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One kind of finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable: `SC101`.
    pub id: &'static str,
    /// Short, kebab-case: `dangerous-syscall-allowed`.
    pub name: &'static str,
    pub severity: Severity,
    /// Why it matters.
    pub why: &'static str,
}

/// Every rule, by id.
pub const RULES: &[Rule] = &[
    Rule {
        id: "SC101",
        name: "dangerous-syscall-allowed",
        severity: Severity::Warning,
        why: "the syscall is a known container-escape or kernel-attack surface, and the rule allows it whatever its arguments and without a capability condition",
    },
    Rule {
        id: "SC102",
        name: "io-uring-allowed",
        severity: Severity::Warning,
        why: "io_uring operations run in the kernel on the caller's behalf without passing through seccomp: allowing io_uring_setup lets a program do what the profile denies",
    },
    Rule {
        id: "SC103",
        name: "rule-equals-default",
        severity: Severity::Note,
        why: "the rule's action is the default action: runc and crun skip it, so it does nothing (and a reader may think it does)",
    },
    Rule {
        id: "SC104",
        name: "unknown-syscall-name",
        severity: Severity::Warning,
        why: "the runtime skips a rule name its libseccomp cannot resolve: the call then gets the default action (or runc's ENOSYS stub)",
    },
    Rule {
        id: "SC105",
        name: "clone3-bypasses-clone-flags",
        severity: Severity::Warning,
        why: "clone3 takes its flags in memory, where a filter cannot look: allowing it undoes the flag conditions on clone (moby answers clone3 with ENOSYS so that glibc falls back to clone)",
    },
    Rule {
        id: "SC106",
        name: "socketcall-bypass",
        severity: Severity::Warning,
        why: "on i386, socket calls also go through socketcall (and System V IPC through ipc), whose arguments are in memory: libseccomp allows the multiplexed call without the argument conditions",
    },
    Rule {
        id: "SC107",
        name: "truncated-on-32-bit",
        severity: Severity::Warning,
        why: "32-bit architectures compare only the low 32 bits: a datum above 0xffffffff is truncated there and the condition means something else",
    },
    Rule {
        id: "SC108",
        name: "action-needs-platform",
        severity: Severity::Warning,
        why: "the action needs something the process may not have: TRACE without a tracer and NOTIFY without a listener return ENOSYS; LOG is only seen where the kernel's audit log is read",
    },
    Rule {
        id: "SC109",
        name: "shadowed-rule",
        severity: Severity::Warning,
        why: "libseccomp lets an unconditional rule for a syscall win over its conditional rules: this conditional rule never decides anything",
    },
    Rule {
        id: "SC110",
        name: "runtimes-disagree",
        severity: Severity::Warning,
        why: "runc and crun treat this differently: the same profile gives different filters (or a refusal) depending on the runtime",
    },
    Rule {
        id: "SC111",
        name: "needs-newer-libseccomp",
        severity: Severity::Note,
        why: "the oldest libseccomp runtimes still link (2.5.0) does not resolve this name: on such hosts the runtime skips it and the call gets the default action",
    },
    Rule {
        id: "SC201",
        name: "no-arch-check",
        severity: Severity::Error,
        why: "syscall numbers differ per architecture: a filter that does not check seccomp_data.arch applies x86_64 numbers to i386 or x32 calls, which reach other syscalls",
    },
    Rule {
        id: "SC202",
        name: "nr-before-arch",
        severity: Severity::Error,
        why: "the filter reads the syscall number before it has checked the architecture, so a number may be judged as another architecture's",
    },
    Rule {
        id: "SC203",
        name: "x32-reachable",
        severity: Severity::Warning,
        why: "x32 calls arrive as AUDIT_ARCH_X86_64 with bit 30 set in the number: a filter that checks only the arch lets them through to rules written for x86_64 numbers (or to its default)",
    },
    Rule {
        id: "SC204",
        name: "i386-reachable",
        severity: Severity::Warning,
        why: "a 64-bit program can make i386 calls with int $0x80; the filter lets them through without an i386 arch check, judging them by x86_64 rules",
    },
    Rule {
        id: "SC205",
        name: "instruction-pointer-dependence",
        severity: Severity::Warning,
        why: "the filter reads the instruction pointer: where a call comes from is under the attacker's control (ASLR, gadgets), so verdicts based on it are not a boundary",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.id == id)
        .expect("findings use catalogued ids")
}

/// Where a finding is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// In a profile file.
    Profile(Location),
    /// Instruction `index` of a raw filter.
    Insn { source: String, index: usize },
    /// The whole input.
    Whole { source: String },
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Profile(l) => write!(f, "{l}"),
            Place::Insn { source, index } => write!(f, "{source}: instruction {index}"),
            Place::Whole { source } => write!(f, "{source}"),
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    pub place: Place,
    /// What was found, with names and values.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl Finding {
    pub(crate) fn new(id: &str, place: Place, message: String, fix: impl Into<String>) -> Finding {
        Finding {
            rule: rule(id),
            place,
            message,
            fix: fix.into(),
        }
    }

    /// As JSON (what `syscage lint --format json` and the wasm `lint` method give):
    /// id, name, severity, file, line, column, pointer, instruction, message, why, fix.
    pub fn to_json(&self) -> serde_json::Value {
        let (file, line, column, pointer, insn) = match &self.place {
            Place::Profile(l) => (
                l.source.clone(),
                Some(l.line),
                Some(l.column),
                Some(l.pointer.clone()),
                None,
            ),
            Place::Insn { source, index } => (source.clone(), None, None, None, Some(*index)),
            Place::Whole { source } => (source.clone(), None, None, None, None),
        };
        serde_json::json!({
            "id": self.rule.id, "name": self.rule.name, "severity": self.rule.severity.name(),
            "file": file, "line": line, "column": column, "pointer": pointer,
            "instruction": insn, "message": self.message, "why": self.rule.why, "fix": self.fix,
        })
    }

    /// For people: `p.json:5:7: /syscalls/3: warning SC101 dangerous-syscall-allowed:
    /// ...` and the why and fix on their own lines.
    pub fn render(&self) -> String {
        format!(
            "{}: {} {} {}: {}\n  why: {}\n  fix: {}\n",
            self.place,
            self.rule.severity.name(),
            self.rule.id,
            self.rule.name,
            self.message,
            self.rule.why,
            self.fix
        )
    }
}

#[cfg(test)]
mod tests;
