//! Each command's part in a session's fix records, for tables and pages that list the
//! commands: which failed (and what fixed it), which fixed, which verified.

use std::collections::HashMap;

use crate::fix::FixRecord;

/// Each command's part in the fix records, by seq.
#[derive(Default)]
pub struct FixRoles<'a> {
    /// Failures, by their seq.
    pub symptom: HashMap<u32, &'a FixRecord>,
    /// Fixes, and the failure each fixed.
    pub fixes: HashMap<u32, u32>,
    /// Successful retries, and the failure each verified.
    pub verifies: HashMap<u32, u32>,
}

impl<'a> FixRoles<'a> {
    pub fn of(records: &'a [FixRecord]) -> FixRoles<'a> {
        let mut r = FixRoles::default();
        for rec in records {
            r.symptom.insert(rec.symptom, rec);
            for &f in &rec.fix {
                r.fixes.entry(f).or_insert(rec.symptom);
            }
            if let Some(v) = rec.verification {
                r.verifies.entry(v).or_insert(rec.symptom);
            }
        }
        r
    }

    /// `failed, fixed by #4`, `fix of #1`, `verifies #1`, `failed, unresolved`.
    pub fn notes(&self, seq: u32) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(r) = self.symptom.get(&seq) {
            if r.is_resolved() && !r.fix.is_empty() {
                let fix: Vec<String> = r.fix.iter().map(|f| format!("#{f}")).collect();
                notes.push(format!("failed, fixed by {}", fix.join(" ")));
            } else if r.is_resolved() {
                notes.push("failed, worked on retry".into());
            } else {
                notes.push("failed, unresolved".into());
            }
        }
        if let Some(s) = self.fixes.get(&seq) {
            notes.push(format!("fix of #{s}"));
        }
        if let Some(s) = self.verifies.get(&seq) {
            notes.push(format!("verifies #{s}"));
        }
        notes
    }
}
