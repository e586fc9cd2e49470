//! What only looks: the programs (and program + subcommand) whose runs are diagnostics,
//! never a fix. One list, extendable from the config file.

use crate::shell_words::{simple_commands, Simple};

/// Programs (or program + subcommand, `kubectl get`) that only look: never a fix.
pub const READ_ONLY: &[&str] = &[
    "ls",
    "ll",
    "cat",
    "bat",
    "less",
    "more",
    "head",
    "tail",
    "stat",
    "file",
    "lsattr",
    "getfacl",
    "getcap",
    "namei",
    "readlink",
    "realpath",
    "which",
    "type",
    "whereis",
    "id",
    "whoami",
    "groups",
    "pwd",
    "echo",
    "printf",
    "printenv",
    "env",
    "set",
    "ps",
    "pgrep",
    "top",
    "htop",
    "ss",
    "netstat",
    "lsof",
    "df",
    "du",
    "free",
    "uptime",
    "uname",
    "date",
    "hostname",
    "grep",
    "egrep",
    "fgrep",
    "rg",
    "ag",
    "find",
    "locate",
    "tree",
    "wc",
    "sort",
    "uniq",
    "cut",
    "sed",
    "awk",
    "diff",
    "cmp",
    "od",
    "hexdump",
    "xxd",
    "strings",
    "md5sum",
    "sha256sum",
    "jq",
    "yq",
    "journalctl",
    "dmesg",
    "lsblk",
    "blkid",
    "findmnt",
    "lscpu",
    "lsmod",
    "lspci",
    "lsusb",
    "ip addr",
    "ip a",
    "ip route",
    "ip r",
    "ip link",
    "ping",
    "traceroute",
    "dig",
    "nslookup",
    "host",
    "getent",
    "nc -z",
    "curl -I",
    "ldd",
    "nproc",
    "history",
    "man",
    "sleep",
    "true",
    "clear",
    "cd",
    "watch",
    "systemctl status",
    "systemctl cat",
    "systemctl is-active",
    "systemctl list-units",
    "service status",
    "kubectl get",
    "kubectl describe",
    "kubectl logs",
    "kubectl top",
    "kubectl explain",
    "kubectl version",
    "kubectl config view",
    "kubectl auth can-i",
    "docker ps",
    "docker logs",
    "docker inspect",
    "docker images",
    "git status",
    "git log",
    "git diff",
    "git show",
    "git branch",
    "git remote",
    "apt list",
    "apt-cache",
    "dpkg -l",
    "dpkg -L",
    "rpm -q",
    "mount",
    "crictl ps",
    "crictl logs",
    "fls",
    "mactime",
    "istat",
    "fsstat",
    "debugfs -R",
];

/// The read-only list in force: [`READ_ONLY`] and the user's additions.
#[derive(Debug, Clone, Default)]
pub struct ReadOnly {
    extra: Vec<Vec<String>>,
}

impl ReadOnly {
    /// The built-in list plus `extra` entries (`"mycheck"`, `"helm status"`).
    pub fn with(extra: &[String]) -> ReadOnly {
        ReadOnly {
            extra: extra
                .iter()
                .map(|e| e.split_whitespace().map(str::to_owned).collect())
                .filter(|e: &Vec<String>| !e.is_empty())
                .collect(),
        }
    }

    /// A short, stable name of the user's additions (FNV-1a of the sorted entries), or
    /// `None` without any: what was derived with one list is stale under another, and an
    /// index records this to notice. Stable across processes and Rust versions, unlike
    /// `std`'s hasher.
    pub fn digest(&self) -> Option<String> {
        if self.extra.is_empty() {
            return None;
        }
        let mut entries: Vec<String> = self.extra.iter().map(|e| e.join(" ")).collect();
        entries.sort();
        entries.dedup();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in entries.join("\n").bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Some(format!("{h:016x}"))
    }

    /// Whether this simple command only looks. `mount` alone lists; with arguments it
    /// mounts; `sed -i`, `find -delete` and writing a file change state.
    pub(crate) fn simple(&self, s: &Simple) -> bool {
        if s.writes_file {
            return false;
        }
        let (w, _) = s.unwrapped();
        let Some(first) = w.first() else {
            return true;
        };
        let program = first.rsplit('/').next().unwrap_or(first);
        let args: Vec<&str> = w[1..].iter().map(String::as_str).collect();
        let changes = match program {
            "mount" => !args.is_empty(),
            "sed" | "perl" => args.iter().any(|a| a.starts_with("-i")),
            "awk" => args.iter().any(|a| a.starts_with("-i")),
            "find" => args
                .iter()
                .any(|a| matches!(*a, "-delete" | "-exec" | "-execdir")),
            "sort" => args.iter().any(|a| a.starts_with("-o")),
            _ => false,
        };
        if changes {
            return false;
        }
        let matches = |entry: &[&str]| {
            entry[0] == program
                && entry[1..]
                    .iter()
                    .all(|part| args.iter().any(|a| a == part || a.starts_with(part)))
        };
        READ_ONLY
            .iter()
            .any(|e| matches(&e.split(' ').collect::<Vec<_>>()))
            || self
                .extra
                .iter()
                .any(|e| matches(&e.iter().map(String::as_str).collect::<Vec<_>>()))
    }

    /// Whether a whole command line only looks (every simple command in it does).
    pub fn is_read_only(&self, line: &str) -> bool {
        simple_commands(line).iter().all(|s| self.simple(s))
    }
}
