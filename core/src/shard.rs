//! Splitting a numbered run of fuzz cases across workers, and what each worker
//! reports.
//!
//! A run is a seed and a total number of cases. Case `i` draws everything it uses
//! from its own generator, seeded by [`case_seed`]`(seed, i)`, so it is the same case
//! whichever worker runs it and whatever ran before it. Shard `K/N` runs the
//! contiguous cases [`Shard::range`]: the N shards of a run are disjoint and cover
//! it, and a shard run twice reproduces itself exactly.
//!
//! Each case contributes a 64-bit hash of what it compared (its profile, runtime,
//! events and the reference verdicts); a shard reports the XOR of its cases' hashes
//! ([`FuzzSummary::digest`]). XOR is order-free, so the shards' digests combine into
//! the digest an unsharded run of the same seed and total prints, and `syscage report`
//! checks that they do. This module computes nothing about seccomp: the fuzzing
//! itself is the CLI's and the enforcer's.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::event::SeccompData;

/// `kind` of a fuzz summary.
pub const KIND: &str = "syscage.fuzz";
/// The summary's format version.
pub const VERSION: u32 = 1;

/// Shard `index` of `count` (0-based: a Kubernetes indexed Job's
/// `JOB_COMPLETION_INDEX`); always `index < count` (a document that says otherwise does
/// not deserialize).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawShard")]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole run as one shard.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// The cases of a run of `total` this shard runs: `[total*K/N, total*(K+1)/N)`.
    pub fn range(self, total: u64) -> Range<u64> {
        let at = |k: u64| (u128::from(total) * u128::from(k) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

#[derive(Deserialize)]
struct RawShard {
    index: u64,
    count: u64,
}

impl TryFrom<RawShard> for Shard {
    type Error = ShardError;
    fn try_from(r: RawShard) -> Result<Shard, ShardError> {
        format!("{}/{}", r.index, r.count).parse()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("{0:?} is not a shard: write K/N, e.g. 0/8 (K counts from 0)")]
    Syntax(String),
    #[error("shard {index}/{count}: K must be below N (shards count from 0 to N-1)")]
    Range { index: u64, count: u64 },
    #[error("shard {0}/0: N must be at least 1")]
    Zero(u64),
}

impl FromStr for Shard {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(syntax)?;
        let index: u64 = k.trim().parse().map_err(|_| syntax())?;
        let count: u64 = n.trim().parse().map_err(|_| syntax())?;
        if count == 0 {
            return Err(ShardError::Zero(index));
        }
        if index >= count {
            return Err(ShardError::Range { index, count });
        }
        Ok(Shard { index, count })
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of case `case` of a run seeded `seed`.
pub fn case_seed(seed: u64, case: u64) -> u64 {
    splitmix(seed ^ splitmix(case))
}

/// The hash of case `case`: what it compared. The profile's text and the runtime;
/// for a case whose profile resolves, every event (number, architecture, arguments)
/// with the reference engine's return value (`None`: refused by the runtime's or
/// libseccomp's rules, nothing compared). This is the contract between shards: every
/// syscage that reports a digest for a seed hashes its cases so.
pub fn case_hash(
    case: u64,
    profile: &str,
    runtime: &str,
    verdicts: Option<&[(SeccompData, u32)]>,
) -> u64 {
    let mut h = Sha256::new();
    h.update(case.to_le_bytes());
    for b in [profile.as_bytes(), runtime.as_bytes()] {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    }
    for (d, ret) in verdicts.unwrap_or_default() {
        h.update((u64::from(d.nr) | u64::from(d.arch) << 32).to_le_bytes());
        for a in d.args {
            h.update(a.to_le_bytes());
        }
        h.update(u64::from(*ret).to_le_bytes());
    }
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("32 bytes"))
}

/// One disagreement a shard found, with the command that reproduces its case alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub case: u64,
    pub runtime: String,
    /// The minimized profile.
    pub profile: serde_json::Value,
    pub event: serde_json::Value,
    /// `[engine, verdict]` pairs.
    pub verdicts: Vec<(String, String)>,
    pub reproduce: String,
}

/// What a shard (or a whole run) reports: `syscage fuzz --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FuzzSummary {
    pub kind: String,
    pub version: u32,
    /// The syscage that ran it (shards of different versions draw different cases).
    pub syscage: String,
    pub seed: u64,
    /// Cases in the whole run.
    pub total: u64,
    pub shard: Shard,
    /// The first case run and one past the last.
    pub first: u64,
    pub end: u64,
    pub engines: Vec<String>,
    /// Cases run (`end - first` unless stopped at a disagreement).
    pub cases: u64,
    /// Cases whose profile libseccomp or the runtime refuses (nothing to compare).
    pub skipped: u64,
    pub events: u64,
    pub kernel_verdicts: u64,
    /// XOR of the cases' hashes, 16 hex digits.
    pub digest: String,
    pub seconds: f64,
    pub disagreements: Vec<Found>,
}

impl FuzzSummary {
    /// Whether the summary is what it says: its cases the shard's slice of the run,
    /// no more run than that. `Err` says what is wrong (a `--case I` reproduction is not
    /// a shard of a run).
    pub fn consistent(&self) -> Result<(), String> {
        let r = self.shard.range(self.total);
        if (self.first, self.end) != (r.start, r.end) {
            return Err(format!(
                "cases {}..{} are not shard {} of {} cases ({}..{}): not a shard of a run \
                 (a --case reproduction?)",
                self.first, self.end, self.shard, self.total, r.start, r.end
            ));
        }
        if self.cases > self.end - self.first || self.skipped > self.cases {
            return Err(format!(
                "{} cases run ({} skipped) in a slice of {}",
                self.cases,
                self.skipped,
                self.end - self.first
            ));
        }
        if self.digest_value().is_none() {
            return Err(format!("digest {:?} is not 16 hex digits", self.digest));
        }
        Ok(())
    }

    /// The digest as a number.
    pub fn digest_value(&self) -> Option<u64> {
        (self.digest.len() == 16)
            .then(|| u64::from_str_radix(&self.digest, 16).ok())
            .flatten()
    }
}

/// A digest as a summary writes it.
pub fn digest_text(v: u64) -> String {
    format!("{v:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("3/8".parse(), Ok(Shard { index: 3, count: 8 }));
        assert_eq!("0/1".parse(), Ok(Shard::WHOLE));
        assert_eq!(
            "8/8".parse::<Shard>(),
            Err(ShardError::Range { index: 8, count: 8 })
        );
        assert_eq!("1/0".parse::<Shard>(), Err(ShardError::Zero(1)));
        for bad in ["", "3", "a/b", "-1/4", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        // Nor from a document.
        assert!(serde_json::from_str::<Shard>(r#"{"index":0,"count":0}"#).is_err());
        assert!(serde_json::from_str::<Shard>(r#"{"index":5,"count":5}"#).is_err());
        assert_eq!(
            serde_json::from_str::<Shard>(r#"{"index":1,"count":5}"#).unwrap(),
            Shard { index: 1, count: 5 }
        );
    }

    proptest! {
        /// The shards of a run are disjoint, in order, and cover it; their sizes
        /// differ by at most one.
        #[test]
        fn shards_partition_the_run(total in 0u64..1_000_000_000_000, count in 1u64..2000) {
            let mut next = 0;
            let (mut small, mut big) = (u64::MAX, 0);
            for index in 0..count {
                let r = Shard { index, count }.range(total);
                prop_assert_eq!(r.start, next);
                next = r.end;
                small = small.min(r.end - r.start);
                big = big.max(r.end - r.start);
            }
            prop_assert_eq!(next, total);
            prop_assert!(big - small <= 1);
        }

        #[test]
        fn case_seeds_do_not_depend_on_neighbours(seed: u64, a in 0u64..1 << 40, b in 0u64..1 << 40) {
            prop_assume!(a != b);
            prop_assert_ne!(case_seed(seed, a), case_seed(seed, b));
            prop_assert_eq!(case_seed(seed, a), case_seed(seed, a));
        }
    }
}
