//! Findings as a SARIF 2.1.0 log (OASIS), as GitHub code scanning reads it: one run,
//! the tool's rules from the catalog, one result per finding with its physical place
//! (file, line and column for profiles; the instruction's bytes for raw filters) and,
//! for profiles, the JSON pointer as a logical location.

use serde_json::{json, Value};

use super::{Finding, Place, RULES};

/// The SARIF log. `uri` turns a finding's source into the artifact's URI (relative to
/// the repository, for code scanning).
pub fn log(findings: &[Finding], version: &str, uri: &dyn Fn(&str) -> String) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.name.replace('-', " ")},
                "fullDescription": {"text": r.why},
                "help": {"text": r.why},
                "defaultConfiguration": {"level": r.severity.name()},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let index = RULES.iter().position(|r| r.id == f.rule.id).unwrap_or(0);
            let (physical, logical) = match &f.place {
                Place::Profile(l) => {
                    let mut region = json!({"startLine": l.line.max(1)});
                    if l.column > 0 {
                        region["startColumn"] = json!(l.column);
                    }
                    (
                        json!({"artifactLocation": {"uri": uri(&l.source)}, "region": region}),
                        (!l.pointer.is_empty())
                            .then(|| json!([{"fullyQualifiedName": l.pointer, "kind": "member"}])),
                    )
                }
                Place::Insn { source, index } => (
                    json!({"artifactLocation": {"uri": uri(source)},
                           "region": {"byteOffset": index * 8, "byteLength": 8}}),
                    None,
                ),
                Place::Whole { source } => {
                    (json!({"artifactLocation": {"uri": uri(source)}}), None)
                }
            };
            let mut location = json!({"physicalLocation": physical});
            if let Some(l) = logical {
                location["logicalLocations"] = l;
            }
            json!({
                "ruleId": f.rule.id,
                "ruleIndex": index,
                "level": f.rule.severity.name(),
                "message": {"text": format!("{} Fix: {}", f.message, f.fix)},
                "locations": [location],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "syscage",
                "version": version,
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
