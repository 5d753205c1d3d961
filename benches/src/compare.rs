//! The comparison run's machinery: the same profile compiled by syscage, by libseccomp
//! (as runc drives it) and by seccompiler, and every program measured by syscage's
//! interpreter on the same syscall mixes.

use std::collections::{BTreeMap, BTreeSet};

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use syscage_core::action::{describe_ret, ret, Action};
use syscage_core::arch::{Arch, X32_SYSCALL_BIT};
use syscage_core::bpf::stats::Executed;
use syscage_core::bpf::{self, Insn, Program, ValidProgram};
use syscage_core::eval::Evaluator;
use syscage_core::event::SeccompData;
use syscage_core::policy::{OciRule, Origin, Policy};
use syscage_core::profile::{parse, CmpOp, Profile, Runtime};
use syscage_core::{builtin, syscalls, trace};
use syscage_enforcer::libseccomp::{self, ArgCmp, Attr, Libseccomp};

use crate::bundled_traces;

/// A set of syscalls to measure on, each counted once.
pub struct Mix {
    pub name: &'static str,
    pub about: &'static str,
    pub events: Vec<SeccompData>,
}

impl Mix {
    /// Every syscall of an arch's table, arguments zero.
    pub fn uniform(arch: Arch, name: &'static str) -> Mix {
        Mix {
            name,
            about: "every number in the arch's syscall table once, arguments zero",
            events: syscalls::all(arch)
                .map(|(sys, _)| SeccompData {
                    nr: sys.nr,
                    arch: arch.audit_arch(),
                    ..SeccompData::default()
                })
                .collect(),
        }
    }

    /// The events of the bundled strace traces, unknown arguments zero.
    pub fn traces() -> Mix {
        let events = bundled_traces()
            .iter()
            .filter(|(name, _)| name.ends_with(".strace"))
            .flat_map(|(_, text)| {
                trace::parse(text, Arch::X86_64)
                    .expect("bundled traces parse")
                    .events
            })
            .map(|e| e.data_with(0))
            .collect();
        Mix {
            name: "traces",
            about: "every event of examples/*.strace, unknown arguments zero",
            events,
        }
    }

    pub fn all() -> Vec<Mix> {
        vec![
            Mix::uniform(Arch::X86_64, "uniform x86_64"),
            Mix::uniform(Arch::X86, "uniform x86"),
            Mix::traces(),
        ]
    }
}

/// Where a program is expected to return what syscage's reference evaluator returns.
#[derive(Clone, Debug)]
pub enum Agreement {
    /// Everywhere (syscage's own program).
    Exact,
    /// libseccomp: everywhere except runc's ENOSYS stub (added by runc after
    /// libseccomp, not part of libseccomp's program), syscalls libseccomp 2.5.4 does not
    /// know, and trees that hit 2.5.4's code generation bug (SEMANTICS.md).
    Libseccomp,
    /// seccompiler: x86_64 syscalls whose rules were all expressible, and the default.
    Seccompiler(BTreeSet<u32>),
}

/// One compiled program and its figures.
pub struct Row {
    pub name: String,
    pub program: ValidProgram,
    /// Per mix: the executed-instruction figures, `None` when the program does not
    /// cover the mix's ABI.
    pub executed: Vec<Option<Executed>>,
    pub checked: usize,
    pub skipped: usize,
    pub disagreements: Vec<String>,
}

impl Row {
    pub fn new(
        name: &str,
        program: ValidProgram,
        policy: &Policy,
        agreement: Agreement,
        mixes: &[Mix],
        covers: &dyn Fn(&SeccompData) -> bool,
    ) -> Row {
        let executed = mixes
            .iter()
            .map(|m| {
                if !m.events.iter().all(covers) {
                    return None;
                }
                Some(Executed::from_counts(
                    m.events
                        .iter()
                        .map(|d| (bpf::run(&program, d).executed, 1.0)),
                ))
            })
            .collect();
        let reference = Evaluator::new(policy);
        let (mut checked, mut skipped, mut disagreements) = (0, 0, Vec::new());
        for d in mixes.iter().flat_map(|m| &m.events) {
            let (want, origin) = reference.decide(d);
            let arch = Arch::from_audit(d.arch, d.nr);
            let sys = arch
                .and_then(|a| policy.arches.iter().find(|p| p.arch == a))
                .and_then(|p| p.syscall(d.nr));
            let expected = match (&agreement, origin) {
                (_, Origin::Bypass) => false,
                (Agreement::Exact, _) => true,
                (Agreement::Libseccomp, Origin::EnosysStub) => false,
                (Agreement::Libseccomp, _) => {
                    let known = arch
                        .and_then(|a| syscalls::name_of(a, d.nr))
                        .is_none_or(|n| {
                            host_libseccomp().is_ok_and(|l| l.resolve(n, None).is_some())
                        });
                    known && !sys.is_some_and(|s| s.libseccomp_codegen_may_differ)
                }
                (Agreement::Seccompiler(_), Origin::EnosysStub) => false,
                (Agreement::Seccompiler(ok), _) => {
                    arch == Some(Arch::X86_64) && (sys.is_none() || ok.contains(&d.nr))
                }
            };
            if !expected {
                skipped += 1;
                continue;
            }
            checked += 1;
            let got = bpf::run(&program, d).ret;
            if got != want {
                disagreements.push(format!(
                    "{d:?}: syscage {} (by {origin}), {name} {}",
                    describe_ret(want),
                    describe_ret(got)
                ));
            }
        }
        Row {
            name: name.to_string(),
            program,
            executed,
            checked,
            skipped,
            disagreements,
        }
    }
}

/// `runtime/default`, as runc sees it.
pub fn runtime_default_profile() -> Profile {
    builtin::lookup("runtime/default", Runtime::Runc)
        .expect("builtin exists")
        .expect("builtin parses")
}

/// The large hand-made profile, `benches/profiles/large.json`.
pub fn large_profile() -> Profile {
    parse(
        "benches/profiles/large.json",
        include_str!("../profiles/large.json"),
        Runtime::Runc,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The `SECCOMP_RET_*` value libseccomp takes for the action.
fn scmp_action(a: Action) -> Result<u32, String> {
    let r = a.to_ret();
    match r & ret::ACTION_FULL {
        ret::KILL_PROCESS
        | ret::KILL_THREAD
        | ret::TRAP
        | ret::ERRNO
        | ret::USER_NOTIF
        | ret::TRACE
        | ret::LOG
        | ret::ALLOW => Ok(r),
        _ => Err(format!("no libseccomp action for {}", describe_ret(r))),
    }
}

/// The host's libseccomp (loaded at run time), or why not.
pub fn host_libseccomp() -> Result<Libseccomp, String> {
    Libseccomp::host().map_err(|e| e.to_string())
}

/// Builds the filter with libseccomp the way runc does (`libcontainer/seccomp`): a
/// context with the default action, the profile's architectures, one rule per name in
/// order (unknown names skipped), no-new-privs left to the runtime. runc then prepends
/// its ENOSYS stub; that part is left out here (syscage's program includes its own).
pub fn build_libseccomp(
    arches: &[Arch],
    default: Action,
    rules: &[OciRule],
    optimize: u32,
) -> Result<ValidProgram, String> {
    let lib = host_libseccomp()?;
    let e = |what: &str, err: libseccomp::CallError| format!("{what}: {err}");
    let mut f = lib
        .filter(scmp_action(default)?)
        .map_err(|x| e("context", x))?;
    f.set(Attr::ActBadArch, ret::KILL_THREAD)
        .map_err(|x| e("bad arch", x))?;
    f.set(Attr::CtlNnp, 0).map_err(|x| e("nnp", x))?;
    f.set(Attr::CtlOptimize, optimize)
        .map_err(|x| e("optimize", x))?;
    for a in arches {
        let token = lib
            .arch_token(a.scmp_name())
            .ok_or_else(|| format!("libseccomp has no arch {a}"))?;
        f.add_arch(token).map_err(|x| e("arch", x))?;
    }
    for r in rules {
        let Some(nr) = lib.resolve(&r.name, None) else {
            continue; // runc skips names libseccomp does not know
        };
        let act = scmp_action(r.action)?;
        let conds: Vec<ArgCmp> = r
            .conds
            .iter()
            .map(|c| {
                let (op, a, b) = match c.op {
                    CmpOp::Ne => (libseccomp::CmpOp::Ne, c.value, 0),
                    CmpOp::Lt => (libseccomp::CmpOp::Lt, c.value, 0),
                    CmpOp::Le => (libseccomp::CmpOp::Le, c.value, 0),
                    CmpOp::Eq => (libseccomp::CmpOp::Eq, c.value, 0),
                    CmpOp::Ge => (libseccomp::CmpOp::Ge, c.value, 0),
                    CmpOp::Gt => (libseccomp::CmpOp::Gt, c.value, 0),
                    CmpOp::MaskedEq => (libseccomp::CmpOp::MaskedEq, c.value, c.value_two),
                };
                ArgCmp {
                    arg: c.index,
                    op,
                    datum_a: a,
                    datum_b: b,
                }
            })
            .collect();
        f.add_rule(act, nr, &conds)
            .map_err(|x| format!("rule {} ({}): {x}", r.pointer, r.name))?;
    }
    let raw = f.export_bpf().map_err(|x| e("export", x))?;
    let prog = Program::from_raw(&raw).map_err(|x| x.to_string())?;
    bpf::validate(&prog).map_err(|x| format!("libseccomp's program does not validate: {x}"))
}

fn seccompiler_action(a: Action) -> Option<SeccompAction> {
    let r = a.to_ret();
    let data = r & ret::DATA;
    Some(match r & ret::ACTION_FULL {
        ret::KILL_PROCESS => SeccompAction::KillProcess,
        ret::KILL_THREAD => SeccompAction::KillThread,
        ret::TRAP => SeccompAction::Trap,
        ret::ERRNO => SeccompAction::Errno(data),
        ret::TRACE => SeccompAction::Trace(data),
        ret::LOG => SeccompAction::Log,
        ret::ALLOW => SeccompAction::Allow,
        _ => return None,
    })
}

/// Builds the part of the profile seccompiler can express: an x86_64 allow-list (one
/// match action, ALLOW; the profile's default as the mismatch action), each rule's
/// conditions ANDed, a syscall's rules ORed, 64-bit comparisons. Returns the program,
/// where it should agree with syscage, and what was left out.
#[allow(clippy::type_complexity)]
pub fn build_seccompiler(
    default: Action,
    rules: &[OciRule],
) -> (Result<(ValidProgram, Agreement), String>, String) {
    let mut chains: BTreeMap<i64, Option<Vec<SeccompRule>>> = BTreeMap::new();
    let mut not_allow: BTreeSet<u32> = BTreeSet::new();
    let mut dropped_rules = 0;
    let mut unknown = 0;
    for r in rules {
        let Some(sys) = syscalls::number_of(Arch::X86_64, &r.name) else {
            unknown += 1;
            continue;
        };
        if r.action != Action::ALLOW {
            dropped_rules += 1;
            not_allow.insert(sys.nr);
            continue;
        }
        let chain = chains.entry(i64::from(sys.nr)).or_insert(Some(Vec::new()));
        if r.conds.is_empty() {
            *chain = None; // unconditional: matches whatever else is listed
            continue;
        }
        let conds: Vec<SeccompCondition> = r
            .conds
            .iter()
            .map(|c| {
                let (op, value) = match c.op {
                    CmpOp::Ne => (SeccompCmpOp::Ne, c.value),
                    CmpOp::Lt => (SeccompCmpOp::Lt, c.value),
                    CmpOp::Le => (SeccompCmpOp::Le, c.value),
                    CmpOp::Eq => (SeccompCmpOp::Eq, c.value),
                    CmpOp::Ge => (SeccompCmpOp::Ge, c.value),
                    CmpOp::Gt => (SeccompCmpOp::Gt, c.value),
                    // libseccomp compares (arg & mask) == (datum & mask).
                    CmpOp::MaskedEq => (SeccompCmpOp::MaskedEq(c.value), c.value_two & c.value),
                };
                SeccompCondition::new(c.index as u8, SeccompCmpArgLen::Qword, op, value)
                    .expect("argument index <= 5")
            })
            .collect();
        if let Some(v) = chain {
            v.push(SeccompRule::new(conds).expect("conditions"));
        }
    }
    let left_out = format!(
        "{dropped_rules} rules whose action is not ALLOW (on {} syscalls), {unknown} rules for \
         names x86_64 lacks, the x86 and x32 ABIs (seccompiler kills every non-native arch), \
         runc's ENOSYS stub",
        not_allow.len()
    );
    let checkable: BTreeSet<u32> = chains
        .keys()
        .map(|n| *n as u32)
        .filter(|n| !not_allow.contains(n))
        .collect();
    let Some(mismatch) = seccompiler_action(default) else {
        return (
            Err(format!(
                "no seccompiler action for {}",
                describe_ret(default.to_ret())
            )),
            left_out,
        );
    };
    let rules: BTreeMap<i64, Vec<SeccompRule>> = chains
        .into_iter()
        .map(|(n, c)| (n, c.unwrap_or_default()))
        .collect();
    let built = SeccompFilter::new(rules, mismatch, SeccompAction::Allow, TargetArch::x86_64)
        .and_then(BpfProgram::try_from)
        .map_err(|e| format!("seccompiler: {e}"))
        .and_then(|p| {
            let prog = Program::new(
                p.iter()
                    .map(|i| Insn::jump(i.code, i.k, i.jt, i.jf))
                    .collect(),
            );
            bpf::validate(&prog).map_err(|e| format!("seccompiler's program: {e}"))
        })
        .map(|p| (p, Agreement::Seccompiler(checkable)));
    (built, left_out)
}

/// Whether `d` is for an ABI the seccompiler filter covers.
pub fn x86_64_only(d: &SeccompData) -> bool {
    Arch::from_audit(d.arch, d.nr) == Some(Arch::X86_64) && d.nr & X32_SYSCALL_BIT == 0
}
