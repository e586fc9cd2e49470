//! What a hit knows of fixes: a failed command carries what fixed it, a fix the failure
//! it fixed, a successful retry both. Built from a session's fix records when it is
//! indexed, stored with each command's document.

use std::collections::HashMap;

use fixcast_sessions::{CommandRecord, FixRecord, Found};
use serde::{Deserialize, Serialize};

/// A command by its place in a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub seq: u32,
    /// Seconds into the recording.
    pub offset: f64,
    pub command: String,
}

/// What fixed a failed command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixNote {
    /// How it was found: `retry`, `marked` or `alternative`.
    pub found: Found,
    /// The command(s) that changed what was wrong; empty when a plain retry worked.
    pub commands: Vec<Step>,
    /// The retry that succeeded.
    pub verification: Option<Step>,
    /// Seconds from the failure to its successful retry.
    pub after: Option<f64>,
}

/// A failure, as a fix or a retry names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymptomNote {
    #[serde(flatten)]
    pub step: Step,
    /// Its first error lines.
    pub error: Vec<String>,
}

/// A successful retry: the failure it verifies the fix of, and that fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verifies {
    pub symptom: SymptomNote,
    pub fix: FixNote,
}

/// Everything about fixes stored with one command.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct FixInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<FixNote>,
    /// For an unresolved failure: what was tried next.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixes: Option<SymptomNote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifies: Option<Verifies>,
    /// The person marked this command as the session's fix.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub marked: bool,
}

impl FixInfo {
    pub fn is_empty(&self) -> bool {
        *self == FixInfo::default()
    }
}

/// Each command's [`FixInfo`], by seq, from the session's fix records.
pub(crate) fn by_command(
    commands: &[CommandRecord],
    records: &[FixRecord],
) -> HashMap<u32, FixInfo> {
    let by_seq: HashMap<u32, &CommandRecord> = commands.iter().map(|c| (c.seq, c)).collect();
    let step = |seq: u32| {
        by_seq.get(&seq).map(|c| Step {
            seq,
            offset: c.start,
            command: c.command.clone(),
        })
    };
    let mut info: HashMap<u32, FixInfo> = HashMap::new();
    for r in records {
        let Some(symptom_step) = step(r.symptom) else {
            continue;
        };
        let symptom = SymptomNote {
            step: symptom_step.clone(),
            error: r.error.clone(),
        };
        if r.found == Found::Unresolved {
            info.entry(r.symptom).or_default().next_steps =
                r.next_steps.iter().filter_map(|&s| step(s)).collect();
            continue;
        }
        let verification = r.verification.and_then(step);
        let note = FixNote {
            found: r.found,
            commands: r.fix.iter().filter_map(|&s| step(s)).collect(),
            after: verification
                .as_ref()
                .map(|v| (v.offset - symptom_step.offset).max(0.0)),
            verification,
        };
        for &f in &r.fix {
            let e = info.entry(f).or_default();
            // A command that fixed several failures names the first.
            if e.fixes.is_none() {
                e.fixes = Some(symptom.clone());
            }
        }
        if let Some(v) = r.verification {
            let e = info.entry(v).or_default();
            if e.verifies.is_none() {
                e.verifies = Some(Verifies {
                    symptom: symptom.clone(),
                    fix: note.clone(),
                });
            }
        }
        info.entry(r.symptom).or_default().fix = Some(note);
    }
    info
}
