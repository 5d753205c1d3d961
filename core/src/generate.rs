//! Generating a profile from what a program did: the smallest profile that allows every
//! event of its traces, the calls the runtime makes under the filter before the program
//! starts, and nothing else; or, from a base profile, the smallest widening of it.
//!
//! The result is a [`Profile`] (format-faithful, so [`crate::profile::write`] and
//! [`output`] write it in any format) plus what went into it and why. Generation does
//! not trust itself: [`verify`] replays every input event through the reference engine
//! against the profile *as written and read back*, resolved for the target chain, and
//! the caller refuses to write a profile that fails. This module does not read traces
//! (that is [`crate::trace`]) or touch files.
//!
//! What the output allows, exactly:
//!
//! * the architectures the traces show (and the target's own, where the runtime
//!   starts), no other: no stray x32 or i386 opening;
//! * every syscall name the traces show, unconditionally, except the few whose
//!   dangerous values are told by one argument ([`args`]) when `--args observed` asks
//!   for conditions and the recorded values are few;
//! * the calls the runtime makes after installing the filter ([`StartupCall`]).
//!
//! A profile is by name, and names apply to every listed architecture: a name seen on
//! i386 only is also allowed on x86_64. Numbers without a name cannot be written in an
//! OCI profile and are refused.

pub mod args;
pub mod output;

use std::collections::{BTreeMap, BTreeSet};

use crate::action::{Action, ActionKind};
use crate::arch::Arch;
use crate::bpf;
use crate::eval::Evaluator;
use crate::event::Event;
use crate::policy::{self, Policy, ResolveError, Target};
use crate::profile::{ArgCond, Conditions, Format, Profile, ProfileError, SyscallRule};
use crate::runtime::{RuntimeRelease, StartupCall};
use crate::syscalls::{self, SyscallNr};

pub use args::ArgMode;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// What every call not in the traces gets (ignored with a base: the base's stays).
    pub default_action: Action,
    pub args: ArgMode,
    /// The runtime that will install the profile, and whether the container runs with
    /// no_new_privs; `None` when no runtime starts the program (seccompiler, syscage
    /// enforce).
    pub runtime: Option<(RuntimeRelease, bool)>,
    /// The native architecture (where the runtime runs).
    pub native: Arch,
    /// What the profile was generated from, for its comment (trace paths).
    pub sources: Vec<String>,
}

/// Why a name (or a rule) is in the generated profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The traces call it this many times (on these architectures).
    Traced { count: usize, arches: Vec<Arch> },
    /// The runtime calls it after installing the filter.
    Startup(StartupCall),
}

/// One rule added (to an empty profile, or to the base), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addition {
    pub name: String,
    /// The argument condition, when the rule has one.
    pub cond: Option<ArgCond>,
    pub reason: Reason,
}

/// The generated profile and its account.
#[derive(Clone, Debug)]
pub struct Generated {
    pub profile: Profile,
    /// The rules generation added, in profile order.
    pub added: Vec<Addition>,
    /// Architectures added to a base (all of them without one).
    pub arches_added: Vec<Arch>,
    /// Things worth telling: arguments left unconditioned and why.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error("the traces hold no syscall events: nothing to generate from")]
    NoEvents,
    #[error(
        "line {line}: {sys} on {arch} has no name in syscage's tables, and a profile can only \
         allow syscalls by name"
    )]
    Unnamed {
        line: usize,
        arch: Arch,
        sys: String,
    },
    #[error(
        "architecture {arch} (line {line}) cannot be written: a {format} profile holds one \
         architecture, {native}"
    )]
    OneArch {
        line: usize,
        arch: Arch,
        native: Arch,
        format: &'static str,
    },
}

/// One traced name on the architectures it was seen on, with its events.
struct Seen<'e> {
    arches: BTreeSet<Arch>,
    events: Vec<&'e Event>,
}

/// The events by syscall name (sorted), refusing numbers without a name.
fn by_name<'e>(events: &'e [Event]) -> Result<BTreeMap<&'static str, Seen<'e>>, GenerateError> {
    let mut names: BTreeMap<&'static str, Seen<'e>> = BTreeMap::new();
    for e in events {
        let Some(name) = e.sys.name() else {
            return Err(GenerateError::Unnamed {
                line: e.line,
                arch: e.sys.arch,
                sys: e.sys.to_string(),
            });
        };
        let seen = names.entry(name).or_insert_with(|| Seen {
            arches: BTreeSet::new(),
            events: Vec::new(),
        });
        seen.arches.insert(e.sys.arch);
        seen.events.push(e);
    }
    Ok(names)
}

/// The architectures: the native one first when the runtime needs it or the events
/// show it, then the others the events show, in a fixed order.
fn arches_of(events: &[Event], native: Arch, with_native: bool) -> Vec<Arch> {
    let shown: BTreeSet<Arch> = events.iter().map(|e| e.sys.arch).collect();
    let mut arches = Vec::new();
    if with_native || shown.contains(&native) {
        arches.push(native);
    }
    arches.extend(shown.into_iter().filter(|a| *a != native));
    arches
}

fn allow_rule(names: Vec<String>, args: Vec<ArgCond>, comment: String) -> SyscallRule {
    SyscallRule {
        pointer: String::new(),
        names,
        action: ActionKind::Allow,
        errno_ret: None,
        args,
        includes: Conditions::default(),
        excludes: Conditions::default(),
        comment: Some(comment),
    }
}

/// The rules that allow `names` (the traced ones, with their events), conditioned where
/// `mode` asks and the values allow; `unconditional` names get no conditions (the
/// runtime needs them whatever the arguments).
fn rules_for(
    names: &BTreeMap<&'static str, Seen<'_>>,
    mode: ArgMode,
    unconditional: &BTreeSet<&str>,
    from: &str,
    notes: &mut Vec<String>,
) -> (Vec<SyscallRule>, Vec<Addition>) {
    let mut plain = Vec::new();
    let mut conditioned = Vec::new();
    let mut added = Vec::new();
    for (name, seen) in names {
        let reason = Reason::Traced {
            count: seen.events.len(),
            arches: seen.arches.iter().copied().collect(),
        };
        let conds = match mode {
            ArgMode::Observed if !unconditional.contains(name) => {
                args::conditions(name, &seen.events, notes)
            }
            _ => None,
        };
        match conds {
            Some(conds) => {
                for cond in conds {
                    conditioned.push(allow_rule(
                        vec![name.to_string()],
                        vec![cond.cond],
                        format!("{name}: {} (seen in {from})", cond.why),
                    ));
                    added.push(Addition {
                        name: name.to_string(),
                        cond: Some(cond.cond),
                        reason: reason.clone(),
                    });
                }
            }
            None => {
                plain.push(name.to_string());
                added.push(Addition {
                    name: name.to_string(),
                    cond: None,
                    reason,
                });
            }
        }
    }
    let mut rules = Vec::new();
    if !plain.is_empty() {
        rules.push(allow_rule(plain, Vec::new(), format!("called in {from}")));
    }
    // Unconditioned names first, then the conditioned ones, as libseccomp would order
    // them anyway (an unconditional rule for a name beats its conditional ones).
    let order: Vec<String> = rules
        .iter()
        .flat_map(|r| r.names.clone())
        .collect::<Vec<_>>();
    added.sort_by_key(|a| (a.cond.is_some(), order.iter().position(|n| *n == a.name)));
    rules.extend(conditioned);
    (rules, added)
}

/// [`rules_for`] with `opts`' argument mode, leaving the runtime's own names
/// unconditional.
fn traced_rules(
    names: &BTreeMap<&'static str, Seen<'_>>,
    opts: &Options,
    from: &str,
    notes: &mut Vec<String>,
) -> (Vec<SyscallRule>, Vec<Addition>) {
    let startup_names: BTreeSet<&str> = opts
        .runtime
        .map(|(rr, nnp)| rr.after_install(nnp).iter().map(|c| c.name).collect())
        .unwrap_or_default();
    rules_for(names, opts.args, &startup_names, from, notes)
}

/// The runtime's own calls that `allowed` does not already cover, as one rule.
fn startup_rule(
    runtime: Option<(RuntimeRelease, bool)>,
    covered: impl Fn(&str) -> bool,
) -> (Option<SyscallRule>, Vec<Addition>) {
    let Some((rr, nnp)) = runtime else {
        return (None, Vec::new());
    };
    let calls: Vec<StartupCall> = rr
        .after_install(nnp)
        .into_iter()
        .filter(|c| !covered(c.name))
        .collect();
    if calls.is_empty() {
        return (None, Vec::new());
    }
    let mut names: Vec<String> = calls.iter().map(|c| c.name.to_string()).collect();
    names.sort();
    let rule = allow_rule(
        names,
        Vec::new(),
        format!(
            "{} calls these after installing the filter, before the program starts \
             (no_new_privs {})",
            rr.runtime,
            if nnp { "set" } else { "unset" }
        ),
    );
    let added = calls
        .into_iter()
        .map(|c| Addition {
            name: c.name.to_string(),
            cond: None,
            reason: Reason::Startup(c),
        })
        .collect();
    (Some(rule), added)
}

fn describe_sources(sources: &[String]) -> String {
    match sources {
        [] => "the trace".to_string(),
        [one] => one.clone(),
        many => format!("{} traces ({})", many.len(), many.join(", ")),
    }
}

/// The smallest profile that allows `events` and the runtime's own calls.
pub fn generate(events: &[Event], opts: &Options) -> Result<Generated, GenerateError> {
    if events.is_empty() {
        return Err(GenerateError::NoEvents);
    }
    let names = by_name(events)?;
    let from = describe_sources(&opts.sources);
    let mut notes = Vec::new();
    let (mut rules, mut added) = traced_rules(&names, opts, &from, &mut notes);
    let (startup, startup_added) = startup_rule(opts.runtime, |n| names.contains_key(n));
    rules.extend(startup);
    added.extend(startup_added);
    let arches = arches_of(events, opts.native, opts.runtime.is_some());
    let profile = Profile {
        source: format!("generated from {from}"),
        format: Format::Oci,
        default_action: opts.default_action.kind,
        default_errno_ret: match opts.default_action.kind {
            ActionKind::Errno if opts.default_action.data != 1 => {
                Some(opts.default_action.data.into())
            }
            _ => None,
        },
        architectures: arches.clone(),
        arch_map: Vec::new(),
        flags: Vec::new(),
        listener_path: None,
        listener_metadata: None,
        syscalls: rules,
        warnings: Vec::new(),
        no_filter: false,
    };
    Ok(Generated {
        profile,
        added,
        arches_added: arches,
        notes,
    })
}

/// `base` widened where `events` (and the runtime's own calls) need it: each event
/// `policy` (the base resolved for the target) does not permit gets its name allowed,
/// conditioned as [`generate`] would; each architecture the events show that the base
/// lacks is added.
pub fn widen(
    base: &Profile,
    policy: &Policy,
    events: &[Event],
    opts: &Options,
) -> Result<Generated, GenerateError> {
    if events.is_empty() {
        return Err(GenerateError::NoEvents);
    }
    let eval = Evaluator::new(policy);
    let denied: Vec<Event> = events
        .iter()
        .filter(|e| !eval.evaluate(e).worst().permits())
        .cloned()
        .collect();
    let names = by_name(&denied)?;
    let from = describe_sources(&opts.sources);
    let mut notes = Vec::new();
    let (mut rules, mut added) = traced_rules(&names, opts, &from, &mut notes);
    let (startup, startup_added) = startup_rule(opts.runtime, |name| {
        names.contains_key(name)
            || syscalls::number_of(opts.native, name).is_none_or(|sys| {
                eval.evaluate(&Event {
                    args: [None; 6],
                    ..Event::new(sys, [0; 6])
                })
                .worst()
                .permits()
            })
    });
    rules.extend(startup);
    added.extend(startup_added);
    for r in &mut rules {
        if let Some(c) = &mut r.comment {
            *c = format!("added by syscage generate: {c}");
        }
    }

    let mut profile = base.clone();
    let mut arches_added = Vec::new();
    let present: BTreeSet<Arch> = policy.arches.iter().map(|a| a.arch).collect();
    for arch in arches_of(events, opts.native, false) {
        if present.contains(&arch) {
            continue;
        }
        match profile.arch_map.iter_mut().find(|e| e.arch == opts.native) {
            Some(entry) => entry.sub_arches.push(arch),
            None => profile.architectures.push(arch),
        }
        arches_added.push(arch);
    }
    profile.syscalls.extend(rules);
    profile.source = format!("{} widened for {from}", base.source);
    Ok(Generated {
        profile,
        added,
        arches_added,
        notes,
    })
}

/// An event the profile does not permit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unpermitted {
    /// The index of the event in the slice given, `None` for a startup call.
    pub event: Option<usize>,
    /// What it is: `line N: name on arch`, or the runtime's startup call and why.
    pub what: String,
    /// The verdict and the rule that decided it.
    pub verdict: String,
}

/// Replays every event, and each of the runtime's startup calls (every argument
/// unknown), through the reference engine on `policy`; returns those it does not
/// permit in every case. Empty means verified.
pub fn verify(policy: &Policy, events: &[Event], startup: &[StartupCall]) -> Vec<Unpermitted> {
    let eval = Evaluator::new(policy);
    let mut bad = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, e) in events.iter().enumerate() {
        let outcome = eval.evaluate(e);
        let v = outcome.worst();
        if !v.permits() && seen.insert((e.sys, e.args)) {
            bad.push(Unpermitted {
                event: Some(i),
                what: format!("line {}: {} on {}", e.line, e.syscall_name(), e.sys.arch),
                verdict: format!("{} ({})", v.describe(), v.origin.explain()),
            });
        }
    }
    for call in startup {
        let Some(sys) = syscalls::number_of(policy.target.arch, call.name) else {
            continue;
        };
        let e = Event {
            args: [None; 6],
            ..Event::new(sys, [0; 6])
        };
        let v = eval.evaluate(&e);
        let v = v.worst();
        if !v.permits() {
            bad.push(Unpermitted {
                event: None,
                what: format!("{} (the runtime: {})", call.name, call.why),
                verdict: format!("{} ({})", v.describe(), v.origin.explain()),
            });
        }
    }
    bad
}

/// What [`build`] makes: the profile, its text, and how it fared when replayed.
#[derive(Clone, Debug)]
pub struct Built {
    pub generated: Generated,
    /// The format actually written (a Docker base forces `docker`).
    pub format: output::OutputFormat,
    pub rendered: output::Rendered,
    /// The written text, read back and resolved for the target.
    pub policy: Policy,
    /// Events and runtime calls it does not permit; empty means verified.
    pub failures: Vec<Unpermitted>,
    /// The compiled filter's length.
    pub instructions: usize,
    /// The runtime calls that were added and checked.
    pub startup: Vec<StartupCall>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Generate(#[from] GenerateError),
    #[error(transparent)]
    Output(#[from] output::OutputError),
    #[error("the base profile cannot be resolved for the target: {0}")]
    Base(ResolveError),
    #[error("the base installs no filter: there is nothing to widen")]
    UnconfinedBase,
    #[error("internal error: the written profile does not read back: {0}")]
    ReadBack(ProfileError),
    #[error("the written profile cannot be resolved for the target: {0}")]
    Resolve(ResolveError),
    #[error("the written profile does not compile: {0}")]
    Compile(String),
}

/// The whole of `syscage generate` after reading: generate (or widen `base`), write in
/// `format` with `comment` and `name`, read the text back, resolve it for `target`,
/// replay every event and the runtime's calls, and compile it.
pub fn build(
    events: &[Event],
    opts: &Options,
    base: Option<&Profile>,
    format: output::OutputFormat,
    name: &str,
    target: &Target,
) -> Result<Built, BuildError> {
    let generated = match base {
        None => generate(events, opts)?,
        Some(b) if b.no_filter => return Err(BuildError::UnconfinedBase),
        Some(b) => {
            let p = policy::resolve(b, target).map_err(BuildError::Base)?;
            widen(b, &p, events, opts)?
        }
    };
    let format = output::format_for(&generated.profile, format);
    let comment = comment(&generated, events, opts);
    let rendered = output::render(&generated.profile, format, &comment, name)?;
    let back =
        output::read_back(&rendered.text, format, target.runtime).map_err(BuildError::ReadBack)?;
    let policy = policy::resolve_any(&back, target).map_err(BuildError::Resolve)?;
    let program = bpf::compile::compile(&policy).map_err(|e| BuildError::Compile(e.to_string()))?;
    bpf::validate(&program).map_err(|e| BuildError::Compile(e.to_string()))?;
    let startup: Vec<StartupCall> = opts
        .runtime
        .map(|(rr, nnp)| rr.after_install(nnp))
        .unwrap_or_default();
    let failures = verify(&policy, events, &startup);
    Ok(Built {
        generated,
        format,
        rendered,
        policy,
        failures,
        instructions: program.len(),
        startup,
    })
}

/// What a generated profile says about itself: its traces, the runtime it is for, the
/// architectures it opens.
fn comment(g: &Generated, events: &[Event], opts: &Options) -> String {
    let mut c = format!(
        "Generated by syscage generate from {} ({} distinct calls)",
        describe_sources(&opts.sources),
        events.len()
    );
    if let Some((rr, nnp)) = opts.runtime {
        c.push_str(&format!(
            ", for {} with no_new_privs {}",
            rr.describe(),
            if nnp { "set" } else { "unset" }
        ));
    }
    if !g.arches_added.is_empty() {
        let a: Vec<&str> = g.arches_added.iter().map(|a| a.name()).collect();
        c.push_str(&format!("; architectures {}", a.join(", ")));
    }
    c
}

/// The unique syscalls of `events` (name and architecture), for summaries.
pub fn distinct_syscalls(events: &[Event]) -> BTreeSet<SyscallNr> {
    events.iter().map(|e| e.sys).collect()
}

#[cfg(test)]
mod tests;
