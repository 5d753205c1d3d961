//! DC/OS agents side by side. DC/OS's documentation insists that every agent carries the
//! same seccomp profiles, because Marathon may place a task on any of them and the
//! agent's isolator reads `profileName` from its own `--seccomp_config_dir`. This module
//! compares the profile directories of several agents: which profiles some agents lack
//! (a task naming one fails there) and which differ between agents by verdicts, not
//! bytes ([`crate::distinguish`]), with one event that tells them apart.
//!
//! Reading the directories and resolving their files is the caller's; in here a
//! profile is a resolved [`Policy`] under its name relative to the agent's directory.

use std::collections::{BTreeMap, BTreeSet};

use crate::distinguish::{first_difference, Difference};
use crate::policy::Policy;

/// One profile name across the agents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcrossAgents {
    /// The name relative to each agent's profile directory (`web.json`).
    pub name: String,
    /// Agents (indices) without a profile of that name.
    pub missing_on: Vec<usize>,
    /// The agents that have it, grouped by verdicts: one group when all agree.
    pub groups: Vec<Vec<usize>>,
    /// With several groups: an event the first two groups' profiles answer
    /// differently (`a`: the first group's answer, `b`: the second's).
    pub difference: Option<Difference>,
}

impl AcrossAgents {
    /// Which group agent `agent` is in, if it has the profile.
    pub fn group_of(&self, agent: usize) -> Option<usize> {
        self.groups.iter().position(|g| g.contains(&agent))
    }
}

/// Every profile name any agent has, compared across `agents` (each agent's profiles by
/// name), in name order.
pub fn across(agents: &[BTreeMap<String, Policy>]) -> Vec<AcrossAgents> {
    let names: BTreeSet<&String> = agents.iter().flat_map(|a| a.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let mut missing_on = Vec::new();
            let mut groups: Vec<Vec<usize>> = Vec::new();
            for (i, a) in agents.iter().enumerate() {
                let Some(p) = a.get(name) else {
                    missing_on.push(i);
                    continue;
                };
                match groups
                    .iter_mut()
                    .find(|g| first_difference(&agents[g[0]][name], p).is_none())
                {
                    Some(g) => g.push(i),
                    None => groups.push(vec![i]),
                }
            }
            let difference = match groups.as_slice() {
                [first, second, ..] => {
                    first_difference(&agents[first[0]][name], &agents[second[0]][name])
                }
                _ => None,
            };
            AcrossAgents {
                name: name.clone(),
                missing_on,
                groups,
                difference,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distinguish::test_policy as policy;

    #[test]
    fn missing_same_by_verdicts_and_different() {
        let a = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}"#,
        );
        // The same verdicts written differently: two rules, another order.
        let a2 = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_ALLOW"}, {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
        );
        let b = policy(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#,
        );
        let agent = |ps: &[(&str, &Policy)]| -> BTreeMap<String, Policy> {
            ps.iter()
                .map(|(n, p)| (n.to_string(), (*p).clone()))
                .collect()
        };
        let agents = [
            agent(&[("web.json", &a), ("default.json", &a)]),
            agent(&[("web.json", &a2), ("default.json", &a)]),
            agent(&[("web.json", &b)]),
        ];
        let r = across(&agents);
        assert_eq!(r.len(), 2);
        let default = &r[0];
        assert_eq!(default.name, "default.json");
        assert_eq!(default.missing_on, vec![2]);
        assert_eq!(default.groups, vec![vec![0, 1]]);
        assert!(default.difference.is_none());
        let web = &r[1];
        assert_eq!(web.groups, vec![vec![0, 1], vec![2]]);
        assert_eq!(web.group_of(2), Some(1));
        let d = web.difference.as_ref().unwrap();
        assert_eq!(d.event.nr, 1, "write tells them apart");
    }
}
