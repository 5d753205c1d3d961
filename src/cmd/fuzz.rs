//! `syscage fuzz`: differential fuzzing of the engines on random profiles.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Result};
use serde_json::{json, Value};
use syscage_core::arch::{Arch, X32_SYSCALL_BIT};
use syscage_core::event::SeccompData;
use syscage_core::policy::{self, Policy, ResolveError, Target};
use syscage_core::profile::{self, KernelVersion, Runtime};
use syscage_core::shard::{self, Found, FuzzSummary, Shard};
use syscage_core::syscalls;
use syscage_enforcer::differential::{compare, Disagreement, Engines};
use syscage_enforcer::random_profile::{Shape, ERRNO_RETS, EXTRA_EVENT_NAMES, NAMES, OPS};

/// Compare engines on random profiles until a disagreement or the case budget.
///
/// Each case is a random OCI profile (every action including NOTIFY, every operator,
/// 64-bit values, x86_64 with x86/x32/aarch64 sub-architectures, repeated and
/// overlapping conditions, rules equal to the default) resolved for x86_64 with runc or
/// crun, and events biased to the boundaries of its conditions. The reference
/// evaluator's verdict must equal the bpf interpreter's, and the kernel's (a child
/// process under the compiled filter, observed with ptrace). On a disagreement syscage
/// prints a minimized reproducer: the profile, the event and every engine's verdict,
/// and exits 1.
///
/// Case I of a seeded run is the same case wherever it runs: --shard K/N runs the
/// K-th of N contiguous slices of the --cases (K from 0, a Kubernetes indexed Job's
/// completion index), so N shards cover the run exactly once and each reproduces
/// itself; --case I runs case I alone. --format json prints one summary line (counts,
/// a digest of every case's profile, events and verdicts, and each disagreement with
/// the command that reproduces it) and goes on after a disagreement; `syscage report`
/// merges the shards' lines and checks that they add up to the whole run.
///
/// Examples:
///   syscage fuzz --cases 2000
///   syscage fuzz --cases 100000 --seed 7 --engines reference,bpf
///   syscage fuzz --cases 1000000000 --seed 7 --shard 3/500 --format json
///   syscage fuzz --seed 7 --case 123456789
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Number of random profiles.
    #[arg(long, default_value_t = 1000)]
    cases: u64,
    /// Seed (default: from the clock; printed so a run can be repeated).
    #[arg(long)]
    seed: Option<u64>,
    /// Engines to compare, comma-separated: reference (always), bpf, kernel.
    #[arg(long, default_value = "reference,bpf,kernel", value_delimiter = ',')]
    engines: Vec<String>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Run slice K of N of the cases (K counts from 0); needs --seed.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Run case I of the seeded run alone (what a disagreement's reproducer says).
    #[arg(long, value_name = "I", conflicts_with = "shard")]
    case: Option<u64>,
    /// Output: text for people; json, one summary line for `syscage report`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

use crate::cmd::TextOrJson as Format;

/// The most disagreements a JSON summary carries (each is minimized, which costs).
const MAX_FOUND: usize = 100;

/// splitmix64: small, seedable, good enough to pick shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    /// Small numbers, values around 2^32, anything.
    fn value(&mut self) -> u64 {
        match self.below(6) {
            0 => self.below(8),
            1 => u64::from(u32::MAX),
            2 => 1 << 32,
            3 => (1u64 << 32) + self.below(4) - 2,
            4 => self.next(),
            _ => self.below(8) << 32 | 3,
        }
    }
}

/// A random OCI profile of `shape`, drawn from [`syscage_enforcer::random_profile`].
fn random_profile(r: &mut Rng, shape: Shape) -> Value {
    let mut arches: Vec<&str> = (0..r.below(3)).map(|_| *r.pick(shape.arches)).collect();
    arches.dedup();
    let rules: Vec<Value> = (0..r.below(shape.max_rules as u64 + 1))
        .map(|_| {
            let names: Vec<&str> = (0..1 + r.below(2)).map(|_| *r.pick(NAMES)).collect();
            let action = *r.pick(shape.actions);
            let args: Vec<Value> = (0..r.below(shape.max_conds as u64 + 1))
                .map(|_| {
                    json!({"index": r.below(3), "value": r.value(), "valueTwo": r.value(),
                           "op": *r.pick(OPS)})
                })
                .collect();
            let mut rule = json!({"names": names, "action": action, "args": args});
            if matches!(action, "SCMP_ACT_ERRNO" | "SCMP_ACT_TRACE") && r.below(2) == 0 {
                let range = r.pick(&ERRNO_RETS);
                rule["errnoRet"] =
                    json!(u64::from(range.start) + r.below(u64::from(range.end - range.start)));
            }
            rule
        })
        .collect();
    json!({"defaultAction": *r.pick(shape.actions), "architectures": arches, "syscalls": rules})
}

/// Boundary values for every argument word the policy tests, with `args` elsewhere.
fn events(policy: &Policy, r: &mut Rng) -> Vec<SeccompData> {
    let args: [u64; 6] = std::array::from_fn(|_| r.value());
    let mut out = Vec::new();
    for arch in [Arch::X86_64, Arch::X86, Arch::X32, Arch::Aarch64] {
        let base = if arch == Arch::X32 {
            X32_SYSCALL_BIT
        } else {
            0
        };
        let nrs = NAMES
            .iter()
            .chain(EXTRA_EVENT_NAMES)
            .filter_map(|n| syscalls::number_of(arch, n).map(|s| s.nr))
            .chain([base + 500, base | 0x3fff_ffff, 0xffff_ffff]);
        for nr in nrs {
            out.push(SeccompData {
                nr,
                arch: arch.audit_arch(),
                instruction_pointer: 0,
                args,
            });
        }
    }
    for part in &policy.arches {
        for s in &part.syscalls {
            for n in s.nodes() {
                let words = [
                    n.datum,
                    n.datum.wrapping_add(1),
                    n.datum.wrapping_sub(1),
                    n.datum | !n.mask,
                    0,
                    u32::MAX,
                ];
                for w in words {
                    let mut a = args;
                    let v = &mut a[n.arg as usize];
                    *v = if n.hi {
                        (*v & 0xffff_ffff) | u64::from(w) << 32
                    } else {
                        (*v & !0xffff_ffff) | u64::from(w)
                    };
                    out.push(SeccompData {
                        nr: s.nr,
                        arch: part.arch.audit_arch(),
                        instruction_pointer: 0,
                        args: a,
                    });
                }
            }
        }
    }
    out
}

fn resolve(text: &Value, rt: Runtime, kernel: KernelVersion) -> Option<Policy> {
    let p = profile::parse("fuzz.json", &text.to_string(), rt).ok()?;
    let mut t = Target::new(Arch::X86_64, kernel);
    t.runtime = rt;
    match policy::resolve(&p, &t) {
        Ok(p) => Some(p),
        // What libseccomp refuses or hangs on never reaches a kernel: nothing to compare.
        Err(
            ResolveError::Conflict { .. }
            | ResolveError::LibseccompHang { .. }
            | ResolveError::TooLong { .. }
            | ResolveError::RuntimeRefuses { .. },
        ) => None,
        Err(ResolveError::Invalid(_)) => None,
    }
}

/// Whether the engines still disagree on `event` for `profile`.
fn still_fails(
    profile: &Value,
    rt: Runtime,
    k: KernelVersion,
    event: &SeccompData,
    e: Engines,
) -> Option<Disagreement> {
    let policy = resolve(profile, rt, k)?;
    compare(&policy, std::slice::from_ref(event), e)
        .ok()?
        .disagreement
}

/// Drops rules, names, conditions and architectures while the disagreement stays.
fn minimize(
    mut profile: Value,
    rt: Runtime,
    k: KernelVersion,
    mut d: Disagreement,
    e: Engines,
) -> (Value, Disagreement) {
    loop {
        let mut candidates = Vec::new();
        let rules = profile["syscalls"].as_array().map_or(0, Vec::len);
        for i in 0..rules {
            let mut c = profile.clone();
            c["syscalls"].as_array_mut().unwrap().remove(i);
            candidates.push(c);
            let names = profile["syscalls"][i]["names"]
                .as_array()
                .map_or(0, Vec::len);
            for j in (0..names).filter(|_| names > 1) {
                let mut c = profile.clone();
                c["syscalls"][i]["names"].as_array_mut().unwrap().remove(j);
                candidates.push(c);
            }
            for j in 0..profile["syscalls"][i]["args"]
                .as_array()
                .map_or(0, Vec::len)
            {
                let mut c = profile.clone();
                c["syscalls"][i]["args"].as_array_mut().unwrap().remove(j);
                candidates.push(c);
            }
        }
        for j in 0..profile["architectures"].as_array().map_or(0, Vec::len) {
            let mut c = profile.clone();
            c["architectures"].as_array_mut().unwrap().remove(j);
            candidates.push(c);
        }
        let found = candidates
            .into_iter()
            .find_map(|c| still_fails(&c, rt, k, &d.event, e).map(|dd| (c, dd)));
        match found {
            Some((c, dd)) => {
                profile = c;
                d = dd;
            }
            None => return (profile, d),
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let mut engines = Engines {
        bpf: false,
        kernel: false,
    };
    for e in &args.engines {
        match e.trim() {
            "reference" => {}
            "bpf" => engines.bpf = true,
            "kernel" => engines.kernel = true,
            "libseccomp" => bail!(
                "the libseccomp engine is not linked into syscage; the test suite compares \
                 libseccomp's programs with the kernel (tests/tests/kernel_differential.rs)"
            ),
            other => bail!("unknown engine {other:?} (reference, bpf, kernel)"),
        }
    }
    if engines.kernel {
        if let Err(why) = syscage_enforcer::oracle::available() {
            bail!("the kernel engine cannot run here: {why}");
        }
    }
    if args.seed.is_none() && (args.shard.is_some() || args.case.is_some()) {
        bail!(
            "--shard and --case need --seed: without it every shard would draw its own \
             cases from the clock"
        );
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let kernel = KernelVersion {
        major: 6,
        minor: 18,
    };
    let shard = args.shard.unwrap_or(Shard::WHOLE);
    let range = match args.case {
        Some(i) => i..i.saturating_add(1),
        None => shard.range(args.cases),
    };
    let total = if args.case.is_some() {
        range.end
    } else {
        args.cases
    };
    let engine_names: Vec<String> = args.engines.iter().map(|e| e.trim().to_string()).collect();
    let json = args.format == Format::Json;
    eprintln!(
        "syscage fuzz: seed {seed}, cases {}..{} of {total}{}, engines {}",
        range.start,
        range.end,
        if shard == Shard::WHOLE {
            String::new()
        } else {
            format!(" (shard {shard})")
        },
        engine_names.join(",")
    );
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(range.end - range.start)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} profiles ({per_sec}) {msg}",
        )?
        .progress_chars("=> "),
    );
    let (mut observed, mut compared, mut skipped, mut ran) = (0u64, 0u64, 0u64, 0u64);
    let mut digest = 0u64;
    let mut found: Vec<Found> = Vec::new();
    let started = std::time::Instant::now();
    for case in range.clone() {
        // Every case draws from its own generator: the same case in any shard.
        let mut rng = Rng(shard::case_seed(seed, case));
        let text = random_profile(&mut rng, Shape::default());
        let rt = if rng.below(2) == 0 {
            Runtime::Runc
        } else {
            Runtime::Crun
        };
        ran += 1;
        let profile_text = text.to_string();
        let runtime = rt.to_string();
        let Some(policy) = resolve(&text, rt, kernel) else {
            skipped += 1;
            digest ^= shard::case_hash(case, &profile_text, &runtime, None);
            bar.inc(1);
            continue;
        };
        let evs = events(&policy, &mut rng);
        let reference = syscage_core::eval::Evaluator::new(&policy);
        let verdicts: Vec<(SeccompData, u32)> =
            evs.iter().map(|d| (*d, reference.decide(d).0)).collect();
        digest ^= shard::case_hash(case, &profile_text, &runtime, Some(&verdicts));
        let c = compare(&policy, &evs, engines)?;
        observed += c.kernel_observed;
        compared += c.events as u64;
        bar.set_message(format!("{compared} events, {observed} kernel verdicts"));
        bar.inc(1);
        if let Some(d) = c.disagreement {
            let (profile, d) = minimize(text, rt, kernel, d, engines);
            let arch = Arch::from_audit(d.event.arch, d.event.nr);
            let event = json!({"arch": arch.map(|a| a.name()), "nr": d.event.nr,
                               "syscall": arch.and_then(|a| syscalls::name_of(a, d.event.nr)),
                               "args": d.event.args});
            found.push(Found {
                case,
                runtime: rt.to_string(),
                profile,
                event,
                verdicts: d
                    .verdicts
                    .iter()
                    .map(|(e, v)| (e.to_string(), v.clone()))
                    .collect(),
                reproduce: format!(
                    "syscage fuzz --seed {seed} --case {case} --engines {}",
                    engine_names.join(",")
                ),
            });
            if !json || found.len() >= MAX_FOUND {
                break;
            }
        }
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    if json {
        let summary = FuzzSummary {
            kind: shard::KIND.into(),
            version: shard::VERSION,
            syscage: env!("CARGO_PKG_VERSION").into(),
            seed,
            total,
            shard: if args.case.is_some() {
                Shard::WHOLE
            } else {
                shard
            },
            first: range.start,
            end: range.end,
            engines: engine_names,
            cases: ran,
            skipped,
            events: compared,
            kernel_verdicts: observed,
            digest: shard::digest_text(digest),
            seconds: secs,
            disagreements: found.clone(),
        };
        crate::cmd::print(format!("{}\n", serde_json::to_string(&summary)?))?;
        return Ok(if found.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    if let Some(f) = found.first() {
        return crate::cmd::stdout(|out| {
            writeln!(
                out,
                "DISAGREEMENT (seed {seed}, case {}, runtime {})",
                f.case, f.runtime
            )?;
            writeln!(
                out,
                "profile:\n{}",
                serde_json::to_string_pretty(&f.profile)?
            )?;
            writeln!(out, "event: {}", f.event)?;
            for (engine, v) in &f.verdicts {
                writeln!(out, "  {engine:<10} {v}")?;
            }
            writeln!(out, "reproduce: {}", f.reproduce)?;
            Ok(ExitCode::from(1))
        });
    }
    crate::cmd::print(format!(
        "no disagreement: {} profiles ({skipped} refused by libseccomp's rules, skipped), \
         {compared} events, {observed} kernel-observed verdicts ({:.0}/s) in {secs:.1}s; \
         seed {seed}, cases {}..{} of {total}, digest {}\n",
        ran - skipped,
        observed as f64 / secs.max(1e-9),
        range.start,
        range.end,
        shard::digest_text(digest)
    ))?;
    Ok(ExitCode::SUCCESS)
}
