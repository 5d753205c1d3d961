//! The union of profiles, as the Security Profiles Operator merges the recordings of a
//! workload's replicas: a call goes ahead under the union when it goes ahead under any
//! of them. Precisely, the union's verdict for an event is the most permissive of the
//! inputs' verdicts (the kernel's precedence order: ALLOW above LOG above TRACE above
//! ERRNO above TRAP above the kills); where the most permissive inputs deny with the same
//! action and different data (runc's ENOSYS stub in one, the default EPERM in another),
//! any of theirs.
//!
//! [`merge`] builds the union from the rules ([`Profile`] in, [`Profile`] out): the
//! inputs must share a default action; rules are concatenated, the argument-free ones
//! with the same action and conditions joined into one sorted list, a name's conditional
//! rules dropped where the same action already covers the name unconditionally
//! (libseccomp would ignore them), duplicates dropped; two rules with the same
//! conditions and different actions (which libseccomp refuses to load together) keep
//! the more permissive action, and say so. [`check`] then proves the result
//! verdict-exact on every boundary event ([`crate::distinguish`]) of the inputs resolved
//! for one target, and lists each place it is not (a deny rule of one input that
//! another input's verdict overrides, architectures only some inputs list): those are
//! the conflicts a caller must show, not hide. This module neither reads files nor
//! chooses output formats.

use std::collections::HashSet;

use crate::action::{self, describe_ret, Action, ActionKind};
use crate::distinguish;
use crate::eval::Evaluator;
use crate::event::SeccompData;
use crate::policy::{Origin, Policy};
use crate::profile::{Format, Profile, SyscallRule};
use crate::syscalls::SyscallNr;

/// How the union was built, for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    pub profile: Profile,
    /// Rules that could not both stay, and which one did.
    pub resolved: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give at least one profile")]
    Empty,
    #[error(
        "the profiles' default actions differ ({first}: {a}; {other}: {b}), so no profile is \
         their union: a call named by neither would need both defaults at once. Make the \
         defaults equal first"
    )]
    Defaults {
        first: String,
        a: String,
        other: String,
        b: String,
    },
    #[error("{0} installs no filter: the union with an unconfined profile is unconfined")]
    Unconfined(String),
}

fn default_of(p: &Profile) -> Action {
    Action::new(
        p.default_action,
        match p.default_action {
            ActionKind::Errno | ActionKind::Trace => {
                p.default_errno_ret.unwrap_or(1).min(u16::MAX.into()) as u16
            }
            _ => 0,
        },
    )
}

fn rule_action(r: &SyscallRule) -> Action {
    Action::new(
        r.action,
        match r.action {
            ActionKind::Errno | ActionKind::Trace => {
                r.errno_ret.unwrap_or(1).min(u16::MAX.into()) as u16
            }
            _ => 0,
        },
    )
}

/// The union of `profiles` (see the module documentation).
pub fn merge(profiles: &[Profile]) -> Result<Merged, MergeError> {
    let first = profiles.first().ok_or(MergeError::Empty)?;
    for p in profiles {
        if p.no_filter {
            return Err(MergeError::Unconfined(p.source.clone()));
        }
        if default_of(p) != default_of(first) {
            return Err(MergeError::Defaults {
                first: first.source.clone(),
                a: describe_ret(default_of(first).to_ret()),
                other: p.source.clone(),
                b: describe_ret(default_of(p).to_ret()),
            });
        }
    }
    let mut out = first.clone();
    out.source = format!(
        "union of {}",
        profiles
            .iter()
            .map(|p| p.source.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    out.format = if profiles.iter().any(|p| p.format == Format::Docker) {
        Format::Docker
    } else {
        Format::Oci
    };
    out.warnings.clear();
    for p in &profiles[1..] {
        for a in &p.architectures {
            if !out.architectures.contains(a) {
                out.architectures.push(*a);
            }
        }
        for e in &p.arch_map {
            match out.arch_map.iter_mut().find(|m| m.arch == e.arch) {
                Some(m) => {
                    for s in &e.sub_arches {
                        if !m.sub_arches.contains(s) {
                            m.sub_arches.push(*s);
                        }
                    }
                }
                None => out.arch_map.push(e.clone()),
            }
        }
        for f in &p.flags {
            if !out.flags.contains(f) {
                out.flags.push(f.clone());
            }
        }
    }

    let mut resolved = Vec::new();
    let all: Vec<(&Profile, &SyscallRule)> = profiles
        .iter()
        .flat_map(|p| p.syscalls.iter().map(move |r| (p, r)))
        .collect();
    // Names allowed unconditionally (with no includes/excludes) by some rule, by action.
    let key = |r: &SyscallRule| (rule_action(r), r.includes.clone(), r.excludes.clone());
    let mut rules: Vec<SyscallRule> = Vec::new();
    let mut joined: Vec<usize> = Vec::new();
    for (p, r) in &all {
        if r.args.is_empty() {
            if let Some(&i) = joined.iter().find(|&&i| key(&rules[i]) == key(r)) {
                let names = &mut rules[i].names;
                names.extend(r.names.iter().cloned());
                names.sort();
                names.dedup();
                continue;
            }
            joined.push(rules.len());
            let mut r = (*r).clone();
            r.names.sort();
            r.names.dedup();
            r.pointer = format!("{}#{}", p.source, r.pointer);
            rules.push(r);
            continue;
        }
        // Conditional: per name, unless the same action covers the name unconditionally.
        for name in &r.names {
            let covered = all.iter().any(|(_, u)| {
                u.args.is_empty()
                    && u.includes.is_empty()
                    && u.excludes.is_empty()
                    && u.names.contains(name)
            });
            if covered {
                continue;
            }
            let same_conds = rules.iter_mut().find(|x| {
                x.names == [name.clone()]
                    && x.args == r.args
                    && x.includes == r.includes
                    && x.excludes == r.excludes
            });
            match same_conds {
                Some(x) if rule_action(x) == rule_action(r) => {}
                Some(x) => {
                    let (a, b) = (rule_action(x), rule_action(r));
                    let keep_new = action::precedence(b.to_ret()) > action::precedence(a.to_ret());
                    resolved.push(format!(
                        "{name} with {}: {} says {}, {}#{} says {}; the union keeps {}",
                        r.args
                            .iter()
                            .map(|c| c.to_string())
                            .collect::<Vec<_>>()
                            .join(" && "),
                        x.pointer,
                        describe_ret(a.to_ret()),
                        p.source,
                        r.pointer,
                        describe_ret(b.to_ret()),
                        describe_ret(if keep_new { b } else { a }.to_ret())
                    ));
                    if keep_new {
                        x.action = r.action;
                        x.errno_ret = r.errno_ret;
                        x.pointer = format!("{}#{}", p.source, r.pointer);
                    }
                }
                None => {
                    let mut one = (*r).clone();
                    one.names = vec![name.clone()];
                    one.pointer = format!("{}#{}", p.source, r.pointer);
                    rules.push(one);
                }
            }
        }
    }
    // Conditional rules after the unconditional ones, as the inputs tend to have them.
    rules.sort_by_key(|r| !r.args.is_empty());
    out.syscalls = rules;
    Ok(Merged {
        profile: out,
        resolved,
    })
}

/// One event where the union built from the rules does not give the union's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub event: SeccompData,
    /// The union's verdict (the most permissive input's; the first of them on a tie)
    /// and which input gave it.
    pub expected: u32,
    pub expected_from: String,
    /// What the merged profile returns, and its rule.
    pub got: u32,
    pub got_origin: Origin,
}

impl Conflict {
    /// For people: the call, both verdicts and where they come from.
    pub fn describe(&self) -> String {
        let sys = SyscallNr {
            arch: crate::arch::Arch::from_audit(self.event.arch, self.event.nr)
                .unwrap_or(crate::arch::Arch::X86_64),
            nr: self.event.nr,
        };
        let args: Vec<String> = self.event.args.iter().map(|a| format!("{a:#x}")).collect();
        format!(
            "{sys}({}) on {}: the union is {} ({}), the merged profile gives {} ({})",
            args.join(", "),
            sys.arch,
            describe_ret(self.expected),
            self.expected_from,
            describe_ret(self.got),
            self.got_origin.explain()
        )
    }
}

/// Every boundary event on which `merged` does not return the union of `inputs`'
/// verdicts (all resolved for the same target). Empty means verdict-exact. Events that
/// never reach seccomp are not compared.
pub fn check(inputs: &[Policy], merged: &Policy) -> Vec<Conflict> {
    let evals: Vec<Evaluator> = inputs.iter().map(Evaluator::new).collect();
    let m = Evaluator::new(merged);
    let mut refs: Vec<&Policy> = inputs.iter().collect();
    refs.push(merged);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for d in distinguish::boundary_events(&refs) {
        if !seen.insert(d) {
            continue;
        }
        let mut verdicts = Vec::with_capacity(inputs.len());
        let mut bypass = false;
        for (p, e) in inputs.iter().zip(&evals) {
            let (ret, origin) = e.decide(&d);
            bypass |= *origin == Origin::Bypass;
            verdicts.push((ret, p, origin));
        }
        let Some(top) = verdicts.iter().map(|v| action::precedence(v.0)).max() else {
            continue;
        };
        let (got, origin) = m.decide(&d);
        let tied = || verdicts.iter().filter(|v| action::precedence(v.0) == top);
        if bypass || *origin == Origin::Bypass || tied().any(|v| v.0 == got) {
            continue;
        }
        let (expected, p, o) = tied().next().expect("the maximum is someone's");
        let (expected, from) = (*expected, format!("{}: {}", p.source, o.explain()));
        out.push(Conflict {
            event: d,
            expected,
            expected_from: from,
            got,
            got_origin: origin.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests;
