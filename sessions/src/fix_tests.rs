use super::*;
use crate::command::{CommandRecord, CommandSource};
use crate::error_lines::error_lines;

/// A session from (command, exit, output) triples, a second apart.
fn session(lines: &[(&str, Option<i32>, &str)]) -> Vec<CommandRecord> {
    lines
        .iter()
        .enumerate()
        .map(|(i, (cmd, exit, out))| {
            let mut c = CommandRecord::new(
                i as u32 + 1,
                i as f64,
                i as f64 + 0.5,
                (*cmd).into(),
                CommandSource::Integration,
            );
            c.exit = *exit;
            c.output = (*out).into();
            c.note_errors();
            c
        })
        .collect()
}

fn only(records: &[FixRecord]) -> &FixRecord {
    assert_eq!(records.len(), 1, "{records:#?}");
    &records[0]
}

#[test]
fn a_fix_among_diagnostics_is_told_apart_from_them() {
    let s = session(&[
        (
            "touch app.conf; chattr +i app.conf; echo x >> app.conf",
            Some(1),
            "bash: app.conf: Operation not permitted",
        ),
        (
            "ls -l app.conf",
            Some(0),
            "-rw-r--r-- 1 root root 0 app.conf",
        ),
        (
            "lsattr app.conf",
            Some(0),
            "----i---------e------- app.conf",
        ),
        ("chattr -i app.conf", Some(0), ""),
        ("echo x >> app.conf", Some(0), ""),
    ]);
    let r = only(&derive(&s, None, &ReadOnly::default())).clone();
    assert_eq!(r.symptom, 1);
    assert_eq!(r.error, vec!["bash: app.conf: Operation not permitted"]);
    assert_eq!(r.diagnostics, vec![2, 3]);
    assert_eq!(r.fix, vec![4]);
    assert_eq!(r.verification, Some(5));
    assert_eq!(r.found, Found::Retry);
}

#[test]
fn a_retry_extending_the_failed_line_verifies_the_fix_between() {
    let s = session(&[
        (
            "touch /w/ro/state",
            Some(1),
            "touch: cannot touch '/w/ro/state': Read-only file system",
        ),
        (
            "mount | grep /w/ro",
            Some(0),
            "tmpfs on /w/ro type tmpfs (ro)",
        ),
        ("mount -o remount,rw /w/ro", Some(0), ""),
        ("touch /w/ro/state && echo written", Some(0), "written"),
    ]);
    let r = only(&derive(&s, None, &ReadOnly::default())).clone();
    assert_eq!(
        (r.diagnostics, r.fix, r.verification),
        (vec![2], vec![3], Some(4))
    );
}

#[test]
fn a_script_retried_with_a_changed_argument_is_still_its_retry() {
    let s = session(&[
        ("python3 -c \"import socket; socket.create_connection(('127.0.0.1', 18999))\"", Some(1),
         "ConnectionRefusedError: [Errno 111] Connection refused"),
        ("ss -ltn | grep 18999", Some(1), ""),
        ("python3 -m http.server 18999 >/dev/null 2>&1 &", Some(0), ""),
        ("sleep 1", Some(0), ""),
        ("python3 -c \"import socket; socket.create_connection(('127.0.0.1', 18999)); print('connected')\"",
         Some(0), "connected"),
    ]);
    // The quiet grep is a look, not a second symptom.
    let r = only(&derive(&s, None, &ReadOnly::default())).clone();
    assert_eq!((r.fix, r.verification), (vec![3], Some(5)));
    assert_eq!(r.diagnostics, vec![2, 4]);
}

#[test]
fn a_lost_path_is_fixed_by_the_export_before_the_retry() {
    let s = session(&[
        ("OLDPATH=$PATH", Some(0), ""),
        ("export PATH=/nonexistent", Some(0), ""),
        ("ls /", Some(127), "bash: ls: command not found"),
        ("echo $PATH", Some(0), "/nonexistent"),
        ("export PATH=$OLDPATH", Some(0), ""),
        ("ls / | head -3", Some(0), "bin\nboot\ndev"),
    ]);
    let r = only(&derive(&s, None, &ReadOnly::default())).clone();
    assert_eq!(
        (r.symptom, r.diagnostics, r.fix, r.verification),
        (3, vec![4], vec![5], Some(6))
    );
}

#[test]
fn a_retry_with_sudo_in_front_carries_its_own_fix() {
    let s = session(&[
        (
            "chattr -i /etc/resolv.conf",
            Some(1),
            "chattr: Operation not permitted while setting flags",
        ),
        (
            "lsattr /etc/resolv.conf",
            Some(0),
            "----i--- /etc/resolv.conf",
        ),
        ("sudo chattr -i /etc/resolv.conf", Some(0), ""),
    ]);
    let r = only(&derive(&s, None, &ReadOnly::default())).clone();
    assert_eq!(
        (r.fix, r.verification, r.found),
        (vec![3], Some(3), Found::Retry)
    );
}

#[test]
fn only_what_came_after_the_last_failed_retry_is_the_fix() {
    let s = session(&[
        ("./run.sh", Some(126), "bash: ./run.sh: Permission denied"),
        ("chown me run.sh", Some(0), ""),
        ("./run.sh", Some(126), "bash: ./run.sh: Permission denied"),
        ("chmod +x run.sh", Some(0), ""),
        ("./run.sh", Some(0), "ok"),
    ]);
    let records = derive(&s, None, &ReadOnly::default());
    assert_eq!(records[0].fix, vec![4]);
    assert_eq!(records[0].verification, Some(5));
    // The failed retry is a symptom of its own, fixed the same way.
    assert_eq!(records[1].symptom, 3);
    assert_eq!(records[1].fix, vec![4]);
}

#[test]
fn paths_and_numbers_are_masked_when_matching_a_retry() {
    let s = session(&[
        (
            "/home/me/bin/deploy --port 8080",
            Some(1),
            "error: port in use",
        ),
        ("fuser -k 8080/tcp", Some(0), ""),
        ("./deploy --port 8081", Some(0), "deployed"),
    ]);
    let r = only(&derive(&s, None, &ReadOnly::default())).clone();
    assert_eq!((r.fix, r.verification), (vec![2], Some(3)));
}

#[test]
fn no_retry_but_the_same_job_done_another_way() {
    let s = session(&[
        (
            "rmdir old",
            Some(1),
            "rmdir: failed to remove 'old': Directory not empty",
        ),
        ("ls -R old", Some(0), "old:\nsub"),
        ("rm -r old", Some(0), ""),
        ("ls", Some(0), ""),
    ]);
    let r = only(&derive(&s, None, &ReadOnly::default())).clone();
    assert_eq!(
        (r.found, r.fix, r.diagnostics),
        (Found::Alternative, vec![3], vec![2])
    );
}

#[test]
fn without_a_retry_the_failure_is_unresolved_with_next_steps() {
    let s = session(&[
        (
            "systemctl start app",
            Some(1),
            "Job for app.service failed.",
        ),
        ("journalctl -u app -n 5", Some(0), "app: config invalid"),
        ("vim /etc/app.conf", Some(0), ""),
    ]);
    let r = only(&derive(&s, None, &ReadOnly::default())).clone();
    assert_eq!(r.found, Found::Unresolved);
    assert!(r.fix.is_empty() && r.verification.is_none());
    assert_eq!(r.next_steps, vec![2, 3]);
}

#[test]
fn a_marked_fix_wins_over_inference() {
    let s = session(&[
        (
            "echo x >> app.conf",
            Some(1),
            "bash: app.conf: Operation not permitted",
        ),
        ("lsattr app.conf", Some(0), "----i--- app.conf"),
        ("chattr -i app.conf", Some(0), ""),
        ("touch other", Some(0), ""),
        ("echo x >> app.conf", Some(0), ""),
    ]);
    let r = only(&derive(&s, Some(3), &ReadOnly::default())).clone();
    assert_eq!(
        (r.found, r.fix, r.verification),
        (Found::Marked, vec![3], Some(5))
    );
    assert_eq!(r.diagnostics, vec![2]);
    // Inferred, both state changes count.
    assert_eq!(
        only(&derive(&s, None, &ReadOnly::default())).fix,
        vec![3, 4]
    );
}

#[test]
fn a_heuristic_command_fails_by_its_error_text() {
    let mut s = session(&[
        (
            "cat /etc/shadow",
            None,
            "cat: /etc/shadow: Permission denied",
        ),
        ("sudo cat /etc/shadow", None, "root:*:19000:0:99999:7:::"),
    ]);
    s.iter_mut()
        .for_each(|c| c.source = CommandSource::Heuristic);
    let r = only(&derive(&s, None, &ReadOnly::default())).clone();
    assert_eq!((r.fix, r.verification), (vec![2], Some(2)));
}

#[test]
fn ctrl_c_is_not_a_failure_and_a_quiet_look_is_not_a_symptom() {
    let s = session(&[
        ("tail -f /var/log/syslog", Some(130), ""),
        ("grep nothing /etc/hosts", Some(1), ""),
    ]);
    assert!(derive(&s, None, &ReadOnly::default()).is_empty());
}

#[test]
fn the_read_only_list_can_be_extended() {
    let ro = ReadOnly::with(&["helm status".into(), "mycheck".into()]);
    assert!(ro.is_read_only("helm status web"));
    assert!(!ro.is_read_only("helm upgrade web"));
    assert!(ro.is_read_only("mycheck --all | grep bad"));
    assert!(!ReadOnly::default().is_read_only("mycheck"));
    // What writes is never a look, whatever the program.
    assert!(!ro.is_read_only("echo x > /etc/motd"));
    assert!(!ro.is_read_only("sed -i 's/a/b/' f"));
    assert!(ro.is_read_only("sed 's/a/b/' f"));
    assert!(ro.is_read_only("kubectl get pods -A"));
    assert!(!ro.is_read_only("kubectl delete pod x"));
    assert!(ro.is_read_only("mount"));
    assert!(!ro.is_read_only("mount -o remount,rw /"));
}

#[test]
fn error_lines_are_the_first_lines_that_read_as_errors() {
    let out =
        "Cloning...\nfatal: could not read Username\nhint: x\nerror: one\nerror: two\nerror: three";
    assert_eq!(
        error_lines(out),
        vec!["fatal: could not read Username", "error: one", "error: two"]
    );
    assert!(error_lines("all good\n3 files").is_empty());
}

#[test]
fn the_digest_names_the_additions_in_any_order() {
    assert_eq!(ReadOnly::default().digest(), None);
    assert_eq!(ReadOnly::with(&[]).digest(), None);
    let a = ReadOnly::with(&["helm status".into(), "mycheck".into()]);
    let b = ReadOnly::with(&["mycheck".into(), "helm   status".into()]);
    assert_eq!(a.digest(), b.digest());
    assert!(a.digest().is_some());
    assert_ne!(a.digest(), ReadOnly::with(&["mycheck".into()]).digest());
}
