//! A [`Profile`] written back out as the JSON the platforms read: the OCI runtime-spec
//! `LinuxSeccomp` object (runc, crun, Kubernetes' Localhost files) or moby's Docker
//! format (OCI plus `archMap`, `includes`/`excludes` and `comment`s).
//!
//! Writing is the inverse of [`super::parse`] for everything a profile can say: a
//! written profile parses back to the same rules, actions and conditions (tested). It
//! does not choose what goes in a profile ([`crate::generate`], [`crate::merge`] do),
//! and it does not write the formats that wrap a profile (a Security Profiles Operator
//! `SeccompProfile` object, a seccompiler file): those are [`crate::generate::output`]'s.

use serde_json::{json, Map, Value};

use super::{Conditions, Format, Profile, SyscallRule};

/// The profile as a JSON value in `format` ([`Format::OciBundle`] writes the bundle's
/// `linux.seccomp` object alone, i.e. as [`Format::Oci`]). In the OCI format, what only
/// Docker can say is left out: `archMap` and comments, and every rule conditioned on
/// `includes`/`excludes` (resolve those first; [`needs_docker`] says whether any is
/// there).
pub fn to_value(profile: &Profile, format: Format) -> Value {
    let docker = format == Format::Docker;
    let mut root = Map::new();
    root.insert(
        "defaultAction".into(),
        Value::from(profile.default_action.oci_name()),
    );
    if let Some(e) = profile.default_errno_ret {
        root.insert("defaultErrnoRet".into(), Value::from(e));
    }
    if !profile.architectures.is_empty() {
        root.insert(
            "architectures".into(),
            profile
                .architectures
                .iter()
                .map(|a| Value::from(a.scmp_name()))
                .collect(),
        );
    }
    if docker && !profile.arch_map.is_empty() {
        let map: Vec<Value> = profile
            .arch_map
            .iter()
            .map(|e| {
                json!({
                    "architecture": e.arch.scmp_name(),
                    "subArchitectures": e.sub_arches.iter().map(|a| a.scmp_name()).collect::<Vec<_>>(),
                })
            })
            .collect();
        root.insert("archMap".into(), Value::from(map));
    }
    if !profile.flags.is_empty() {
        root.insert("flags".into(), profile.flags.clone().into());
    }
    if let Some(p) = &profile.listener_path {
        root.insert("listenerPath".into(), Value::from(p.as_str()));
    }
    if let Some(m) = &profile.listener_metadata {
        root.insert("listenerMetadata".into(), Value::from(m.as_str()));
    }
    let rules: Vec<Value> = profile
        .syscalls
        .iter()
        .filter(|r| docker || (r.includes.is_empty() && r.excludes.is_empty()))
        .map(|r| rule(r, docker))
        .collect();
    root.insert("syscalls".into(), Value::from(rules));
    Value::Object(root)
}

/// Whether writing `profile` in the OCI format would lose something it says: an
/// `archMap`, or a rule with `includes`/`excludes`.
pub fn needs_docker(profile: &Profile) -> bool {
    !profile.arch_map.is_empty()
        || profile
            .syscalls
            .iter()
            .any(|r| !r.includes.is_empty() || !r.excludes.is_empty())
}

/// The profile as pretty-printed JSON text, ending in a newline.
pub fn to_text(profile: &Profile, format: Format) -> String {
    let mut text =
        serde_json::to_string_pretty(&to_value(profile, format)).expect("JSON values serialize");
    text.push('\n');
    text
}

fn rule(r: &SyscallRule, docker: bool) -> Value {
    let mut o = Map::new();
    o.insert("names".into(), r.names.clone().into());
    o.insert("action".into(), Value::from(r.action.oci_name()));
    if let Some(e) = r.errno_ret {
        o.insert("errnoRet".into(), Value::from(e));
    }
    if !r.args.is_empty() {
        let args: Vec<Value> = r
            .args
            .iter()
            .map(|a| {
                json!({
                    "index": a.index,
                    "value": a.value,
                    "valueTwo": a.value_two,
                    "op": a.op.oci_name(),
                })
            })
            .collect();
        o.insert("args".into(), Value::from(args));
    }
    if docker {
        if let Some(c) = &r.comment {
            o.insert("comment".into(), Value::from(c.as_str()));
        }
        for (key, c) in [("includes", &r.includes), ("excludes", &r.excludes)] {
            if !c.is_empty() {
                o.insert(key.into(), conditions(c));
            }
        }
    }
    Value::Object(o)
}

fn conditions(c: &Conditions) -> Value {
    let mut o = Map::new();
    if !c.caps.is_empty() {
        o.insert("caps".into(), c.caps.clone().into());
    }
    if !c.arches.is_empty() {
        o.insert("arches".into(), c.arches.clone().into());
    }
    if let Some(k) = c.min_kernel {
        o.insert("minKernel".into(), Value::from(k.to_string()));
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{parse, Runtime};

    /// Every builtin profile, written and read back, is the profile it was (rules,
    /// actions, conditions, arches; pointers and warnings aside).
    #[test]
    fn builtins_round_trip_through_the_docker_format() {
        for name in crate::builtin::names() {
            let p = crate::builtin::lookup(&name, Runtime::Runc)
                .expect("a builtin")
                .expect("loads");
            if p.no_filter {
                continue;
            }
            let text = to_text(&p, Format::Docker);
            let back = parse("written", &text, Runtime::Runc).expect("written text parses");
            assert_eq!(back.default_action, p.default_action, "{name}");
            assert_eq!(back.default_errno_ret, p.default_errno_ret, "{name}");
            assert_eq!(back.architectures, p.architectures, "{name}");
            assert_eq!(back.arch_map, p.arch_map, "{name}");
            assert_eq!(back.syscalls.len(), p.syscalls.len(), "{name}");
            for (a, b) in back.syscalls.iter().zip(&p.syscalls) {
                assert_eq!(
                    (&a.names, a.action, a.errno_ret, &a.args),
                    (&b.names, b.action, b.errno_ret, &b.args),
                    "{name} {}",
                    b.pointer
                );
                assert_eq!(
                    (&a.includes, &a.excludes, &a.comment),
                    (&b.includes, &b.excludes, &b.comment),
                    "{name} {}",
                    b.pointer
                );
            }
        }
    }

    #[test]
    fn oci_format_leaves_out_what_only_docker_says() {
        let p = crate::builtin::lookup("docker/default", Runtime::Runc)
            .unwrap()
            .unwrap();
        let v = to_value(&p, Format::Oci);
        assert!(v.get("archMap").is_none());
        let rules = v["syscalls"].as_array().unwrap();
        assert!(rules.iter().all(|r| r.get("includes").is_none()
            && r.get("excludes").is_none()
            && r.get("comment").is_none()));
        // What stays is a valid OCI profile.
        let back = parse("written", &to_text(&p, Format::Oci), Runtime::Runc).unwrap();
        assert_eq!(back.format, Format::Oci);
    }
}
