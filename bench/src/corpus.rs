//! A synthetic, seeded corpus of debugging sessions: commands and outputs mixed like real
//! incident work (ls, ps, journalctl, kubectl get/describe, dmesg, lsattr, systemctl,
//! curl, stack traces), over varied hosts, paths, pod names and addresses.

use fixcast_sessions::{CommandRecord, CommandSource, SessionId, SessionMeta};

use crate::util::Rng;

const HOSTS: &[&str] = &[
    "node-1",
    "node-2",
    "node-3",
    "node-7",
    "db-primary",
    "db-replica-2",
    "web-01",
    "web-02",
    "edge-lb-1",
    "build-agent-4",
    "k8s-master-0",
    "bastion",
];
const USERS: &[&str] = &["root", "alice", "bob", "deploy", "sre", "ubuntu"];
const SERVICES: &[&str] = &[
    "nginx",
    "postgresql",
    "kubelet",
    "containerd",
    "sshd",
    "redis-server",
    "haproxy",
    "prometheus",
    "node-exporter",
    "etcd",
    "docker",
    "cron",
];
const NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "monitoring",
    "payments",
    "ingress-nginx",
    "staging",
];
const APPS: &[&str] = &[
    "api-gateway",
    "payments-worker",
    "coredns",
    "checkout",
    "auth-service",
    "ledger",
    "search-indexer",
    "frontend",
    "metrics-server",
    "queue-consumer",
];
const STATUSES: &[&str] = &[
    "Running",
    "Running",
    "Running",
    "Running",
    "CrashLoopBackOff",
    "Pending",
    "Error",
    "ImagePullBackOff",
    "Completed",
    "OOMKilled",
];
const DIRS: &[&str] = &[
    "/var/log",
    "/etc",
    "/etc/nginx/conf.d",
    "/srv/app",
    "/var/lib/postgresql/14/main",
    "/home/deploy",
    "/opt/payments",
    "/tmp",
    "/root",
    "/usr/local/bin",
];
const FILES: &[&str] = &[
    "resolv.conf",
    "hosts",
    "nginx.conf",
    "app.yaml",
    "config.json",
    "id_rsa.pub",
    "postgresql.conf",
    "fstab",
    "sudoers",
    "settings.py",
    "docker-compose.yml",
];
const TITLES: &[&str] = &[
    "payments 502s after deploy",
    "node-7 disk full",
    "resolv.conf keeps reverting",
    "postgres replica lag",
    "kubelet not ready",
    "nginx config won't reload",
    "OOM kills on checkout",
    "cert expired on edge-lb",
    "chmod lost its x bit",
    "slow DNS",
];
const TAGS: &[&str] = &[
    "incident",
    "prod",
    "staging",
    "k8s",
    "db",
    "network",
    "postmortem",
];
const WORDS: &[&str] = &[
    "connection",
    "refused",
    "timeout",
    "retrying",
    "failed",
    "started",
    "stopped",
    "listening",
    "accepted",
    "denied",
    "permission",
    "handshake",
    "upstream",
    "request",
    "response",
    "cache",
    "miss",
    "flush",
    "checkpoint",
    "replica",
    "primary",
    "lag",
    "healthy",
    "unhealthy",
    "backoff",
    "restart",
    "signal",
    "terminated",
    "exited",
];

fn pick<'a>(r: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[r.below(xs.len() as u64) as usize]
}

fn ip(r: &mut Rng) -> String {
    format!("10.{}.{}.{}", r.below(8), r.below(32), 1 + r.below(250))
}

fn hash(r: &mut Rng, n: usize) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| A[r.below(A.len() as u64) as usize] as char)
        .collect()
}

fn pod(r: &mut Rng) -> String {
    format!("{}-{}-{}", pick(r, APPS), hash(r, 9), hash(r, 5))
}

fn sentence(r: &mut Rng, n: usize) -> String {
    (0..n).map(|_| pick(r, WORDS)).collect::<Vec<_>>().join(" ")
}

fn time_of_day(r: &mut Rng) -> String {
    format!("{:02}:{:02}:{:02}", r.below(24), r.below(60), r.below(60))
}

/// One command: (command line, output, exit status).
fn command(r: &mut Rng, host: &str) -> (String, String, i32) {
    let mut out = String::new();
    let mut exit = 0;
    let cmd = match r.below(16) {
        0 => {
            let d = pick(r, DIRS);
            for _ in 0..3 + r.below(12) {
                out.push_str(&format!(
                    "-rw-r--r-- 1 root root {:>7} Mar {:>2} {} {}.{}\n",
                    r.below(900_000),
                    1 + r.below(28),
                    &time_of_day(r)[..5],
                    pick(r, SERVICES),
                    pick(r, &["log", "log.1", "gz", "conf", "pid"])
                ));
            }
            format!("ls -la {d}")
        }
        1 => {
            let s = pick(r, SERVICES);
            for _ in 0..1 + r.below(5) {
                out.push_str(&format!(
                    "root {:>6} {:>4}.{} {:>4}.{} {:>8} {:>6} ? Ssl 09:{:02} 0:{:02} /usr/sbin/{s} --config /etc/{s}/{s}.conf\n",
                    r.below(99_999), r.below(99), r.below(10), r.below(60), r.below(10),
                    r.below(9_000_000), r.below(900_000), r.below(60), r.below(60)
                ));
            }
            format!("ps aux | grep {s}")
        }
        2 | 3 => {
            let s = pick(r, SERVICES);
            for _ in 0..4 + r.below(20) {
                let msg = match r.below(6) {
                    0 => format!("connect() failed (111: Connection refused) while connecting to upstream {}:{}", ip(r), pick(r, &["8080", "8443", "5432", "6379"])),
                    1 => format!("Out of memory: Killed process {} ({s}) total-vm:{}kB", r.below(99_999), r.below(9_000_000)),
                    2 => format!("Failed to start {s}.service: Unit entered failed state."),
                    _ => {
                        let k = 4 + r.below(8) as usize;
                        sentence(r, k)
                    }
                };
                out.push_str(&format!(
                    "Mar 12 {} {host} {s}[{}]: {msg}\n",
                    time_of_day(r),
                    r.below(65_000)
                ));
            }
            format!("journalctl -u {s} --since '1 hour ago' --no-pager")
        }
        4 | 5 => {
            let ns = pick(r, NAMESPACES);
            out.push_str("NAME                                   READY   STATUS             RESTARTS   AGE\n");
            for _ in 0..3 + r.below(15) {
                let st = pick(r, STATUSES);
                let p = pod(r);
                out.push_str(&format!(
                    "{p:<38} {}/1     {st:<18} {:<10} {}d\n",
                    u8::from(st == "Running"),
                    r.below(40),
                    1 + r.below(90)
                ));
            }
            if r.below(10) == 0 {
                exit = 1;
                out = format!("Error from server (Forbidden): pods is forbidden: User \"{}\" cannot list resource \"pods\" in namespace \"{ns}\"\n", pick(r, USERS));
            }
            format!("kubectl get pods -n {ns}")
        }
        6 => {
            let (p, ns) = (pod(r), pick(r, NAMESPACES));
            out.push_str(&format!(
                "Name:         {p}\nNamespace:    {ns}\nNode:         {}/{}\nStatus:       Running\nIP:           {}\nContainers:\n  app:\n    Image:          registry.local/{}:v1.{}.{}\n    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\nEvents:\n  Type     Reason     Age   From     Message\n  Warning  BackOff    {}m   kubelet  Back-off restarting failed container\n  Warning  Unhealthy  {}m   kubelet  Readiness probe failed: Get \"http://{}:8080/healthz\": dial tcp {}:8080: connect: connection refused\n",
                pick(r, HOSTS), ip(r), ip(r), pick(r, APPS), r.below(30), r.below(9), r.below(60), r.below(60), ip(r), ip(r)
            ));
            format!("kubectl describe pod {p} -n {ns}")
        }
        7 => {
            for _ in 0..5 + r.below(15) {
                let t = format!("[{:>6}.{:06}]", r.below(900_000), r.below(1_000_000));
                let m = match r.below(5) {
                    0 => format!("EXT4-fs error (device sda{}): ext4_find_entry:1455: inode #{}: comm {}: reading directory lblock 0", 1 + r.below(3), r.below(9_000_000), pick(r, SERVICES)),
                    1 => format!("Out of memory: Killed process {} ({}) total-vm:{}kB, anon-rss:{}kB", r.below(99_999), pick(r, SERVICES), r.below(9_000_000), r.below(900_000)),
                    2 => "nf_conntrack: table full, dropping packet".to_owned(),
                    3 => "eth0: Link is Up - 10Gbps/Full - flow control rx/tx".to_owned(),
                    _ => format!("audit: type=1400 apparmor=\"DENIED\" operation=\"open\" profile=\"{}\" name=\"{}/{}\"", pick(r, SERVICES), pick(r, DIRS), pick(r, FILES)),
                };
                out.push_str(&format!("{t} {m}\n"));
            }
            "dmesg -T | tail -n 30".to_owned()
        }
        8 => {
            let f = format!("{}/{}", pick(r, DIRS), pick(r, FILES));
            let flags = if r.below(3) == 0 {
                "----i---------e-------"
            } else {
                "--------------e-------"
            };
            out.push_str(&format!("{flags} {f}\n"));
            format!("lsattr {f}")
        }
        9 => {
            let f = format!("{}/{}", pick(r, DIRS), pick(r, FILES));
            if r.below(2) == 0 {
                exit = 1;
                out.push_str(&format!("bash: {f}: Operation not permitted\n"));
                format!("echo '{}' >> {f}", sentence(r, 2))
            } else {
                format!("chattr {}i {f}", pick(r, &["-", "+"]))
            }
        }
        10 => {
            exit = 1;
            let app = pick(r, APPS);
            out.push_str("Traceback (most recent call last):\n");
            for _ in 0..3 + r.below(6) {
                out.push_str(&format!(
                    "  File \"/srv/{app}/{}.py\", line {}, in {}\n    {}\n",
                    pick(r, &["main", "handlers", "db", "models", "client"]),
                    r.below(900),
                    pick(r, &["run", "handle", "connect", "fetch", "__init__"]),
                    sentence(r, 3)
                ));
            }
            out.push_str(pick(
                r,
                &[
                    "ModuleNotFoundError: No module named 'psycopg2'\n",
                    "ConnectionRefusedError: [Errno 111] Connection refused\n",
                    "KeyError: 'DATABASE_URL'\n",
                    "PermissionError: [Errno 13] Permission denied: '/var/run/app.sock'\n",
                ],
            ));
            format!("python3 /srv/{app}/main.py --env prod")
        }
        11 => {
            exit = 1;
            let app = pick(r, APPS);
            out.push_str(&format!(
                "Exception in thread \"main\" java.lang.{}: {}\n",
                pick(
                    r,
                    &[
                        "NullPointerException",
                        "IllegalStateException",
                        "OutOfMemoryError"
                    ]
                ),
                sentence(r, 4)
            ));
            for _ in 0..5 + r.below(15) {
                out.push_str(&format!(
                    "\tat com.example.{app}.{}.{}({}.java:{})\n",
                    pick(r, &["Service", "Repository", "Controller", "Client"]),
                    pick(r, &["handle", "save", "load", "call"]),
                    pick(r, &["Service", "Main"]),
                    r.below(900)
                ));
            }
            format!("java -Xmx512m -jar /opt/{app}/{app}.jar")
        }
        12 => {
            let (a, port) = (ip(r), pick(r, &["80", "443", "8080", "8443", "9090"]));
            if r.below(3) == 0 {
                exit = 7;
                out.push_str(&format!("*   Trying {a}:{port}...\n* connect to {a} port {port} failed: Connection refused\ncurl: (7) Failed to connect to {a} port {port}: Connection refused\n"));
            } else {
                out.push_str(&format!("*   Trying {a}:{port}...\n* Connected to {a} ({a}) port {port}\n> GET /healthz HTTP/1.1\n< HTTP/1.1 200 OK\nok\n"));
            }
            format!("curl -sv http://{a}:{port}/healthz")
        }
        13 => {
            let s = pick(r, SERVICES);
            let failed = r.below(3) == 0;
            if failed {
                exit = 3;
            }
            out.push_str(&format!(
                "● {s}.service - {s}\n     Loaded: loaded (/lib/systemd/system/{s}.service; enabled)\n     Active: {} since Tue 2026-03-12 {}; {}min ago\n   Main PID: {}\n",
                if failed { "failed (Result: exit-code)" } else { "active (running)" },
                time_of_day(r), r.below(60), r.below(99_999)
            ));
            format!("systemctl status {s}")
        }
        14 => {
            out.push_str("Filesystem      Size  Used Avail Use% Mounted on\n");
            for i in 0..3 + r.below(4) {
                out.push_str(&format!(
                    "/dev/sda{}        {}G   {}G  {}G  {}% {}\n",
                    i + 1,
                    20 + r.below(500),
                    r.below(400),
                    r.below(100),
                    r.below(101),
                    pick(r, &["/", "/var", "/home", "/srv", "/boot"])
                ));
            }
            "df -h".to_owned()
        }
        _ => {
            let f = format!("{}/{}", pick(r, DIRS), pick(r, FILES));
            format!(
                "{} {f}",
                pick(
                    r,
                    &[
                        "cat",
                        "vim",
                        "less",
                        "stat",
                        "sha256sum",
                        "chmod 644",
                        "chown root:root",
                        "grep -n listen"
                    ]
                )
            )
        }
    };
    (cmd, out, exit)
}

/// Sessions (20–80 commands each) adding up to `total` commands, always the same for a
/// seed. Times are whole microseconds, as a recording holds them. About one command in
/// twelve is a `cd` (from a generator of its own, so every other command is the one the
/// seed always gave), and the commands after it run in the new directory.
pub fn sessions(
    total: usize,
    seed: u64,
) -> impl Iterator<Item = (SessionMeta, Vec<CommandRecord>)> {
    let mut r = Rng::new(seed);
    let mut moves = Rng::new(seed ^ 0x00c0_ffee_d1e5);
    let mut left = total;
    let start = time::macros::datetime!(2026-01-05 09:00 UTC);
    let mut k = 0u64;
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let n = (20 + r.below(61) as usize).min(left);
        left -= n;
        k += 1;
        let id: SessionId = format!("01M{:023}", k)
            .replace(['I', 'L', 'O', 'U'], "0")
            .parse()
            .ok()?;
        let mut meta = SessionMeta::new(id, 120, 40);
        let host = pick(&mut r, HOSTS);
        meta.host = host.to_owned();
        meta.user = pick(&mut r, USERS).to_owned();
        meta.shell = "/bin/bash".into();
        meta.title = Some(pick(&mut r, TITLES).to_owned());
        meta.tags = vec![pick(&mut r, TAGS).to_owned()];
        meta.started = start + time::Duration::minutes(k as i64 * 37);
        meta.cwd = pick(&mut r, DIRS).to_owned();
        let mut cwd = meta.cwd.clone();
        let mut t = 0u64;
        let commands = (0..n)
            .map(|i| {
                let (mut command, mut output, mut exit) = command(&mut r, host);
                let moved = (moves.below(12) == 0).then(|| pick(&mut moves, DIRS));
                if let Some(d) = moved {
                    (command, output, exit) = (format!("cd {d}"), String::new(), 0);
                }
                t += 1_000_000 * (1 + r.below(20));
                let took = 1_000 * r.below(3000);
                let mut c = CommandRecord::new(
                    i as u32 + 1,
                    secs(t),
                    secs(t + took),
                    command,
                    CommandSource::Integration,
                );
                c.cwd = Some(cwd.clone());
                c.exit = Some(exit);
                c.output = output;
                if let Some(d) = moved {
                    d.clone_into(&mut cwd);
                }
                t += took;
                c
            })
            .collect();
        Some((meta, commands))
    })
}

/// Microseconds as the seconds a cut command gives (the same arithmetic, so equal).
pub fn secs(micros: u64) -> f64 {
    micros as f64 / 1e6
}

/// The index of a corpus, built as a rebuild does (a large heap, both cores); with the
/// seconds it took. Straight from the generated records, with no recordings: `hints`
/// times only the "seen before" look-up, which reads no output back (`index` records
/// and cuts its corpus instead, see [`crate::corpus_cast`]).
pub fn build_index(
    dir: &std::path::Path,
    sessions: &[(SessionMeta, Vec<CommandRecord>)],
) -> anyhow::Result<(fixcast_indexer::CommandIndex, f64)> {
    let index = fixcast_indexer::CommandIndex::create(dir)?;
    let t = std::time::Instant::now();
    let mut w = index.writer(fixcast_indexer::WriterOptions {
        heap_bytes: 200_000_000,
        threads: 2,
    })?;
    for (meta, cmds) in sessions {
        w.add_session(meta, cmds)?;
    }
    w.finish()?;
    Ok((index, t.elapsed().as_secs_f64()))
}
