//! The size bench's fixed session: a seeded generator of the asciicast v3 file that
//! `fixcast rec -c 'bash SCRIPT'` makes of the bench's script (see `size::MIX`), with
//! made-up but machine-shaped outputs, so every run measures the same bytes. Recording
//! the script for real gives another session each time (`ps aux`, `/proc` and `ls /tmp`
//! differ from run to run and machine to machine), and the ratio moved by ±0.04 with it.
//!
//! The shape, as a recording of the script has it: a colored prompt line per command,
//! the command's output with `\r\n` line ends, cut into events the way a PTY's reads cut
//! it (up to 4,095 bytes, at arbitrary places), a few microseconds to a few milliseconds
//! apart. Outputs that do not change between runs of a command (a directory listing, the
//! cpu) are the same each time; those that do (`ps`, `/proc/meminfo`, `date`) change a
//! little, as on a real box.

use std::fmt::Write as _;

use super::{MIX, OPTIONAL, PROMPT_DIRS};
use crate::util::Rng;

/// The recorded script's mix, its optional commands as on a box that has them.
fn mix() -> Vec<(&'static str, u64)> {
    let mut mix = MIX.to_vec();
    mix.extend(OPTIONAL.iter().map(|&(c, w, _)| (c, w)));
    mix
}

/// What was generated.
pub(crate) struct Generated {
    /// The asciicast v3 file.
    pub cast: String,
    pub commands: usize,
    pub events: usize,
    pub output_bytes: usize,
    pub seconds: f64,
}

/// A one-line description of the generated session, for the bench's output.
pub(crate) fn shape(g: &Generated) -> String {
    format!(
        "{} commands drawn (seed 2000) from [{}], each after a colored prompt line, 200x50; \
         {} events (a few lines each, a flood's 4,095 B), {} B of output over {:.1} s; cast {} B",
        g.commands,
        mix().iter().map(|m| m.0).collect::<Vec<_>>().join(", "),
        g.events,
        g.output_bytes,
        g.seconds,
        g.cast.len()
    )
}

/// The fixed session of `commands` commands.
pub(crate) fn generate(commands: usize) -> Generated {
    let mut rng = Rng::new(2_000);
    let mut machine = Machine::new();
    let mix = mix();
    let total: u64 = mix.iter().map(|m| m.1).sum();
    let mut cast = String::from(
        r#"{"version":3,"term":{"cols":200,"rows":50,"type":"xterm-256color"},"timestamp":1796143259,"command":"bash debug-session.sh","env":{"SHELL":"/bin/bash","TERM":"xterm-256color"}}"#,
    );
    cast.push('\n');
    let (mut events, mut output_bytes, mut micros) = (0usize, 0usize, 0u64);
    let mut event = |cast: &mut String, dt: u64, data: &str| {
        micros += dt;
        let _ = writeln!(
            cast,
            "[{:.6}, \"o\", {}]",
            dt as f64 / 1e6,
            serde_json::Value::from(data)
        );
        events += 1;
        output_bytes += data.len();
    };
    for _ in 0..commands {
        let mut pick = rng.below(total);
        let cmd = mix
            .iter()
            .find(|m| {
                let hit = pick < m.1;
                pick = pick.saturating_sub(m.1);
                hit
            })
            .map_or(mix[0].0, |m| m.0);
        let dir = PROMPT_DIRS[rng.below(PROMPT_DIRS.len() as u64) as usize];
        let prompt = format!("\x1b[01;32mroot@node1\x1b[00m:\x1b[01;34m{dir}\x1b[00m# {cmd}\r\n");
        event(&mut cast, 500 + rng.below(2_000), &prompt);
        machine.tick(&mut rng);
        let out = machine.output(cmd, &mut rng).replace('\n', "\r\n");
        // Cut as a recording of it is: events end at line ends, in one of the ways a
        // PTY's reads fall (the same program differs from run to run): a line at a time
        // (the program waits between lines), a read of 4,095 bytes cut at its last line
        // end (a flood), or a few hundred bytes at a time. The first read waits for the
        // program to start.
        let mode = match rng.below(10) {
            // A flood is read a full buffer at a time.
            m @ 0..=2 if out.len() > 4_095 => m + 5,
            m => m,
        };
        let mut rest = out.as_str();
        let mut dt = 1_000 + rng.below(3_000);
        let mut carry = 0usize;
        while !rest.is_empty() {
            let line_end = |upto: usize| rest[..upto.min(rest.len())].rfind('\n').map(|i| i + 1);
            let mut n = match mode {
                0..=2 => rest.find('\n').map_or(rest.len(), |i| i + 1),
                3..=7 => {
                    // What is left of the last read, then the next read's lines.
                    let read = if carry > 0 { carry } else { 4_095 };
                    let n = line_end(read).unwrap_or(read);
                    carry = if carry > 0 { 0 } else { read - n.min(read) };
                    n
                }
                _ => line_end(300 + rng.below(400) as usize).unwrap_or(rest.len()),
            }
            .clamp(1, rest.len());
            while !rest.is_char_boundary(n) {
                n -= 1;
            }
            event(&mut cast, dt, &rest[..n]);
            rest = &rest[n..];
            dt = rng.below(60);
        }
    }
    Generated {
        cast,
        commands,
        events,
        output_bytes,
        seconds: micros as f64 / 1e6,
    }
}

/// The made-up box: what stays put (listings, users, mounts) and what moves (pids,
/// counters, the clock).
struct Machine {
    usr_bin: String,
    etc: String,
    tmp: Vec<(String, u64)>,
    procs: Vec<Proc>,
    next_pid: u64,
    /// Seconds since boot, and since midnight.
    up: u64,
    mem_free: u64,
}

struct Proc {
    pid: u64,
    cpu: u64,
    rss: u64,
    vsz: u64,
    stat: &'static str,
    start: String,
    time: u64,
    command: String,
}

const WORDS: &[&str] = &[
    "app", "conf", "sys", "net", "log", "data", "cache", "ctl", "d", "update", "key", "x", "dump",
    "info", "tool", "gen", "check", "ssh", "zip", "py", "perl", "lib", "run", "sh", "db", "fs",
    "mount", "pkg", "io", "stat", "trace", "host", "user", "grp", "make", "cc",
];

/// A made-up file name, like the ones in `/usr/bin`.
fn name(rng: &mut Rng) -> String {
    let mut s = String::new();
    for i in 0..1 + rng.below(3) {
        if i > 0 && rng.below(3) == 0 {
            s.push(['-', '_', '.'][rng.below(3) as usize]);
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    if rng.below(6) == 0 {
        let _ = write!(s, "{}", rng.below(20));
    }
    s
}

const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn date(rng: &mut Rng) -> String {
    format!(
        "{} {:>2}  {}",
        MONTHS[rng.below(12) as usize],
        1 + rng.below(28),
        2021 + rng.below(5)
    )
}

/// `ls -la` of `n` made-up entries, colored as `ls --color=always` colors them.
fn listing(rng: &mut Rng, n: usize, color: bool) -> String {
    let mut names: Vec<String> = (0..n).map(|_| name(rng)).collect();
    names.sort();
    names.dedup();
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[01;{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    let mut out = format!("total {}\n", 100 + rng.below(300_000));
    let _ = writeln!(
        out,
        "drwxr-xr-x  2 root root      36864 Dec  1 11:03 {}",
        paint("34", ".")
    );
    let _ = writeln!(
        out,
        "drwxr-xr-x 13 root root       4096 Dec  1 08:20 {}",
        paint("34", "..")
    );
    for nm in names {
        let d = date(rng);
        match rng.below(10) {
            0..=2 => {
                let target = format!("/etc/alternatives/{nm}");
                let _ = writeln!(
                    out,
                    "lrwxrwxrwx  1 root root {:>10} {d} {} -> {target}",
                    target.len(),
                    paint("36", &nm)
                );
            }
            3 => {
                let _ = writeln!(
                    out,
                    "drwxr-xr-x  2 root root       4096 {d} {}",
                    paint("34", &nm)
                );
            }
            _ => {
                let size = 1_000 + rng.below(400_000);
                let _ = writeln!(
                    out,
                    "-rwxr-xr-x  1 root root {size:>10} {d} {}",
                    paint("32", &nm)
                );
            }
        }
    }
    out
}

impl Machine {
    fn new() -> Machine {
        let mut rng = Rng::new(15);
        let usr_bin = listing(&mut rng, 1_170, true);
        let etc = listing(&mut rng, 150, true);
        let tmp = (0..260)
            .map(|_| (name(&mut rng), rng.below(100_000)))
            .collect();
        let mut procs = Vec::new();
        for pid in 1..80 {
            let kernel = pid > 1 && pid < 60;
            procs.push(Proc {
                pid,
                cpu: if kernel { 0 } else { rng.below(20) },
                rss: if kernel {
                    0
                } else {
                    1_000 + rng.below(300_000)
                },
                vsz: if kernel {
                    0
                } else {
                    4_000 + rng.below(900_000)
                },
                stat: ["S", "I<", "Ss", "Sl", "SLl", "I"][rng.below(6) as usize],
                start: "08:21".into(),
                time: rng.below(400),
                command: if kernel {
                    format!(
                        "[kworker/{}:{}-{}]",
                        rng.below(2),
                        rng.below(3),
                        name(&mut rng)
                    )
                } else {
                    let args: Vec<String> = (0..rng.below(12))
                        .map(|_| format!("--{}", name(&mut rng)))
                        .collect();
                    format!("/usr/bin/{} {}", name(&mut rng), args.join(" "))
                },
            });
        }
        Machine {
            usr_bin,
            etc,
            tmp,
            procs,
            next_pid: 20_000,
            up: 30_000,
            mem_free: 6_000_000,
        }
    }

    /// A few milliseconds pass: processes come and go, counters move.
    fn tick(&mut self, rng: &mut Rng) {
        self.up += rng.below(2);
        self.mem_free = (self.mem_free + rng.below(20_000)).saturating_sub(10_000);
        // About a hundred processes: the box's own, and the work that comes and goes.
        if rng.below(2) == 0 && self.procs.len() > 100 {
            let i = 80 + rng.below((self.procs.len() - 80) as u64) as usize;
            self.procs.remove(i);
        }
        if rng.below(3) == 0 {
            self.next_pid += 1 + rng.below(40);
            let job = JOBS[rng.below(JOBS.len() as u64) as usize];
            self.procs.push(Proc {
                pid: self.next_pid,
                cpu: rng.below(400),
                rss: 2_000 + rng.below(400_000),
                vsz: 5_000 + rng.below(900_000),
                stat: "Sl",
                start: self.clock()[..5].to_owned(),
                time: 0,
                command: job.replace("{}", WORDS[rng.below(WORDS.len() as u64) as usize]),
            });
        }
        for p in &mut self.procs {
            if p.cpu > 0 && rng.below(40) == 0 {
                p.time += 1;
                p.cpu = rng.below(300);
            }
        }
    }

    fn clock(&self) -> String {
        let t = self.up + 30_000;
        format!("{:02}:{:02}:{:02}", t / 3600 % 24, t / 60 % 60, t % 60)
    }

    fn output(&self, cmd: &str, rng: &mut Rng) -> String {
        let mut o = String::new();
        match cmd {
            "ls --color=always -la /usr/bin" => o.push_str(&self.usr_bin),
            "ls --color=always -la /etc" => o.push_str(&self.etc),
            "ls --color=always -la /proc/self/" => {
                let mut r = Rng::new(7);
                // The folder is the new process's: made just now.
                let now = format!("Dec  1 {}", &self.clock()[..5]);
                for l in listing(&mut r, 55, true).lines() {
                    let _ = writeln!(o, "{}", l.replace("Dec  1 08:20", &now));
                }
            }
            "ls -la /tmp" => {
                let _ = writeln!(o, "total {}", 2_362_000 + rng.below(1000));
                for (n, s) in &self.tmp {
                    let _ = writeln!(o, "-rw-r--r--  1 root root {s:>9} Dec  1 11:06 {n}");
                }
            }
            "ps aux" => {
                o.push_str(
                    "USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n",
                );
                for p in &self.procs {
                    let line = format!(
                        "root {:>9} {:>2}.{} {:>4}.{} {:>6} {:>5} ?        {:<4} {}   {}:{:02} {}",
                        p.pid,
                        p.cpu / 10,
                        p.cpu % 10,
                        p.rss / 250_000,
                        p.rss / 25_000 % 10,
                        p.vsz,
                        p.rss,
                        p.stat,
                        p.start,
                        p.time / 60,
                        p.time % 60,
                        p.command
                    );
                    // ps cuts its lines at the terminal's width.
                    let _ = writeln!(o, "{}", &line[..line.len().min(200)]);
                }
            }
            "cat /proc/meminfo" => {
                for (i, k) in MEMINFO.iter().enumerate() {
                    let v = match i {
                        0 => 24_684_092,
                        1 => self.mem_free,
                        2 => self.mem_free + 15_000_000,
                        _ => (i as u64 * 7_919_311) % 15_000_000 + rng.below(3),
                    };
                    let _ = writeln!(o, "{:<16}{v:>8} kB", format!("{k}:"));
                }
            }
            "cat /proc/cpuinfo" => {
                for cpu in 0..2 {
                    o.push_str(&CPUINFO.replace("{cpu}", &cpu.to_string()).replace(
                        "{mhz}",
                        &format!("{}.{:03}", 2_400 + rng.below(400), rng.below(1000)),
                    ));
                }
            }
            "cat /proc/self/status" => {
                let pid = self.next_pid + 5;
                o.push_str(
                    &STATUS
                        .replace("{pid}", &pid.to_string())
                        .replace("{ppid}", &(pid - 1).to_string()),
                );
            }
            "cat /proc/loadavg" => {
                let _ = writeln!(
                    o,
                    "{}.{:02} {}.{:02} 1.94 2/{} {}",
                    rng.below(9),
                    rng.below(100),
                    rng.below(5),
                    rng.below(100),
                    300 + rng.below(40),
                    self.next_pid
                );
            }
            "seq 1 500" => (1..=500).for_each(|i| {
                let _ = writeln!(o, "{i}");
            }),
            "env" => o.push_str(ENV),
            "df -h" => {
                let _ = write!(
                    o,
                    "{}",
                    DF.replace("{used}", &format!("{}G", 56 + self.up / 2_000 % 3))
                );
            }
            "free -m" => {
                let free = self.mem_free / 1024;
                let _ = write!(o, "               total        used        free      shared  buff/cache   available\nMem:           24105 {:>11} {free:>11}           8 {:>11} {:>11}\nSwap:              0           0           0\n", 24105 - free - 14_000, 14_000 + rng.below(50), free + 15_000);
            }
            "mount" => o.push_str(MOUNT),
            "cat /etc/passwd" => o.push_str(PASSWD),
            "uname -a" => o.push_str(
                "Linux node1 6.18.44-fc-v657 #1 SMP PREEMPT_DYNAMIC @0 x86_64 GNU/Linux\n",
            ),
            "date" => {
                let _ = writeln!(o, "Tue Dec  1 {} UTC 2026", self.clock());
            }
            "uptime" => {
                let _ = writeln!(
                    o,
                    " {} up  8:{:02},  0 user,  load average: {}.{:02}, 1.53, 1.77",
                    self.clock(),
                    self.up / 60 % 60,
                    rng.below(9),
                    rng.below(100)
                );
            }
            "id" => o.push_str("uid=0(root) gid=0(root) groups=0(root)\n"),
            "ip addr" => o.push_str(IP_ADDR),
            "dmesg | tail" => o.push_str(DMESG),
            _ => {}
        }
        o
    }
}

/// What comes and goes in `ps`, `{}` a name.
const JOBS: &[&str] = &[
    "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/rustc --crate-name {} --edition=2021 /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/{}-1.0.0/src/lib.rs --error-format=json --json=diagnostic-rendered-ansi,artifacts,future-incompat",
    "/usr/bin/python3 /srv/app/bin/{}.py --config /etc/app/{}.yaml --workers 4",
    "sshd: root@pts/{}",
    "-bash",
    "sleep 60",
    "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf",
    "postgres: 15/main: app app 10.0.3.21(51234) idle",
    "/usr/bin/java -Xmx4g -jar /srv/app/{}.jar --spring.profiles.active=prod",
    "curl -s http://localhost:8080/{}/health",
    "/usr/sbin/cron -f",
    "/bin/sh -c /usr/local/bin/{}-backup.sh",
    "tail -F /var/log/{}.log",
];

const MEMINFO: &[&str] = &[
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "Buffers",
    "Cached",
    "SwapCached",
    "Active",
    "Inactive",
    "Active(anon)",
    "Inactive(anon)",
    "Active(file)",
    "Inactive(file)",
    "Unevictable",
    "Mlocked",
    "SwapTotal",
    "SwapFree",
    "Zswap",
    "Zswapped",
    "Dirty",
    "Writeback",
    "AnonPages",
    "Mapped",
    "Shmem",
    "KReclaimable",
    "Slab",
    "SReclaimable",
    "SUnreclaim",
    "KernelStack",
    "PageTables",
    "SecPageTables",
    "NFS_Unstable",
    "Bounce",
    "WritebackTmp",
    "CommitLimit",
    "Committed_AS",
    "VmallocTotal",
    "VmallocUsed",
    "VmallocChunk",
    "Percpu",
    "HardwareCorrupted",
    "AnonHugePages",
    "ShmemHugePages",
    "ShmemPmdMapped",
    "FileHugePages",
    "FilePmdMapped",
    "Unaccepted",
    "HugePages_Total",
    "HugePages_Free",
    "HugePages_Rsvd",
    "HugePages_Surp",
    "Hugepagesize",
    "Hugetlb",
    "DirectMap4k",
    "DirectMap2M",
];

const CPUINFO: &str = "processor\t: {cpu}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\nmodel name\t: Intel(R) Xeon(R) Platinum 8488C\nstepping\t: 8\nmicrocode\t: 0x2b000603\ncpu MHz\t\t: {mhz}\ncache size\t: 107520 KB\nphysical id\t: 0\nsiblings\t: 2\ncore id\t\t: {cpu}\ncpu cores\t: 2\napicid\t\t: {cpu}\ninitial apicid\t: {cpu}\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 31\nwp\t\t: yes\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch ssbd ibrs ibpb stibp ibrs_enhanced fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves avx_vnni avx512_bf16 wbnoinvd ida arat avx512vbmi umip pku ospke waitpkg avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg tme avx512_vpopcntdq rdpid cldemote movdiri movdir64b md_clear serialize tsxldtrk amx_bf16 avx512_fp16 amx_tile amx_int8 flush_l1d arch_capabilities\nbugs\t\t: spectre_v1 spectre_v2 spec_store_bypass swapgs eibrs_pbrsb bhi its\nbogomips\t: 4800.00\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 46 bits physical, 48 bits virtual\npower management:\n\n";

const STATUS: &str = "Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{ppid}\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t256\nGroups:\t \nNStgid:\t{pid}\nNSpid:\t{pid}\nNSpgid:\t{pid}\nNSsid:\t{ppid}\nKthread:\t0\nVmPeak:\t    5624 kB\nVmSize:\t    5624 kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\nVmHWM:\t    1772 kB\nVmRSS:\t    1772 kB\nRssAnon:\t      88 kB\nRssFile:\t    1684 kB\nRssShmem:\t       0 kB\nVmData:\t     360 kB\nVmStk:\t     132 kB\nVmExe:\t      20 kB\nVmLib:\t    1656 kB\nVmPTE:\t      48 kB\nVmSwap:\t       0 kB\nHugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\nThreads:\t1\nSigQ:\t0/94290\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\nSpeculation_Store_Bypass:\tthread vulnerable\nSpeculationIndirectBranch:\tconditional enabled\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t00000000,00000001\nMems_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t1\n";

const ENV: &str = "SHELL=/bin/bash\nPWD=/srv/app\nLOGNAME=root\nHOME=/root\nLANG=C.UTF-8\nLS_COLORS=rs=0:di=01;34:ln=01;36:mh=00:pi=40;33:so=01;35:do=01;35:bd=40;33;01:cd=40;33;01:or=40;31;01:mi=00:su=37;41:sg=30;43:ca=00:tw=30;42:ow=34;42:st=37;44:ex=01;32:*.tar=01;31:*.tgz=01;31:*.zip=01;31:*.gz=01;31:*.jpg=01;35:*.png=01;35\nTERM=xterm-256color\nUSER=root\nSHLVL=2\nFIXCAST_SESSION=01M8S7P89J7CYE8CM08JYSQHK6\nPATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nKUBECONFIG=/etc/kubernetes/admin.conf\nEDITOR=vim\nHISTSIZE=10000\nHISTFILESIZE=20000\nRUST_BACKTRACE=1\nCARGO_HOME=/root/.cargo\nRUSTUP_HOME=/root/.rustup\nXDG_RUNTIME_DIR=/run/user/0\nMAIL=/var/mail/root\nOLDPWD=/etc\n_=/usr/bin/env\n";

const DF: &str = "Filesystem      Size  Used Avail Use% Mounted on\ndevtmpfs         12G     0   12G   0% /dev\ntmpfs            24G  104K   24G   1% /dev/shm\n/dev/vda        252G  {used}   36G  61% /\ntmpfs            12G     0   12G   0% /sys/fs/cgroup\n/dev/vdb        100G   41G   59G  41% /srv\n";

const MOUNT: &str = "proc on /proc type proc (rw,relatime)\nsysfs on /sys type sysfs (rw,relatime)\ndevtmpfs on /dev type devtmpfs (rw,relatime,size=12342048k,nr_inodes=3085512,mode=755)\ndevpts on /dev/pts type devpts (rw,relatime,gid=5,mode=620,ptmxmode=666)\ntmpfs on /dev/shm type tmpfs (rw,nosuid,nodev)\n/dev/vda on / type ext4 (rw,relatime,discard)\ntmpfs on /run type tmpfs (rw,nosuid,nodev,size=4936820k,nr_inodes=819200,mode=755)\ncgroup2 on /sys/fs/cgroup type cgroup2 (rw,nosuid,nodev,noexec,relatime,nsdelegate)\nmqueue on /dev/mqueue type mqueue (rw,nosuid,nodev,noexec,relatime)\ndebugfs on /sys/kernel/debug type debugfs (rw,nosuid,nodev,noexec,relatime)\ntracefs on /sys/kernel/tracing type tracefs (rw,nosuid,nodev,noexec,relatime)\nconfigfs on /sys/kernel/config type configfs (rw,nosuid,nodev,noexec,relatime)\nfusectl on /sys/fs/fuse/connections type fusectl (rw,nosuid,nodev,noexec,relatime)\n/dev/vdb on /srv type ext4 (rw,relatime)\nbinfmt_misc on /proc/sys/fs/binfmt_misc type binfmt_misc (rw,nosuid,nodev,noexec,relatime)\nhugetlbfs on /dev/hugepages type hugetlbfs (rw,relatime,pagesize=2M)\ntmpfs on /run/user/0 type tmpfs (rw,nosuid,nodev,relatime,size=2468408k,nr_inodes=617102,mode=700)\noverlay on /var/lib/docker/overlay2/4f1c2e/merged type overlay (rw,relatime,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,upperdir=/var/lib/docker/overlay2/4f1c2e/diff,workdir=/var/lib/docker/overlay2/4f1c2e/work)\nnsfs on /run/docker/netns/default type nsfs (rw)\nshm on /var/lib/docker/containers/9a8b/mounts/shm type tmpfs (rw,nosuid,nodev,noexec,relatime,size=65536k)\n";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\nsync:x:4:65534:sync:/bin:/bin/sync\ngames:x:5:60:games:/usr/games:/usr/sbin/nologin\nman:x:6:12:man:/var/cache/man:/usr/sbin/nologin\nlp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin\nmail:x:8:8:mail:/var/mail:/usr/sbin/nologin\nnews:x:9:9:news:/var/spool/news:/usr/sbin/nologin\nuucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin\nproxy:x:13:13:proxy:/bin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nbackup:x:34:34:backup:/var/backups:/usr/sbin/nologin\nlist:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin\nirc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin\n_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nsystemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin\nmessagebus:x:100:102::/nonexistent:/usr/sbin/nologin\nsshd:x:101:65534::/run/sshd:/usr/sbin/nologin\npostgres:x:102:104:PostgreSQL administrator:/var/lib/postgresql:/bin/bash\nnode_exporter:x:103:105::/home/node_exporter:/usr/sbin/nologin\napp:x:1000:1000:app,,,:/srv/app:/bin/bash\ndeploy:x:1001:1001::/home/deploy:/bin/bash\n";

const IP_ADDR: &str = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n    inet6 ::1/128 scope host noprefixroute \n       valid_lft forever preferred_lft forever\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000\n    link/ether 06:4a:1c:9e:22:7b brd ff:ff:ff:ff:ff:ff\n    altname enp0s3\n    inet 10.0.3.17/24 brd 10.0.3.255 scope global dynamic eth0\n       valid_lft 3012sec preferred_lft 3012sec\n    inet6 fe80::44a:1cff:fe9e:227b/64 scope link \n       valid_lft forever preferred_lft forever\n3: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default \n    link/ether 02:42:8e:31:0a:55 brd ff:ff:ff:ff:ff:ff\n    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\n       valid_lft forever preferred_lft forever\n";

const DMESG: &str = "[12692.531405] drop-caches (24053): drop_caches: 8\n[12795.178167] random: crng reseeded due to virtual machine fork\n[12795.182164] virtio_blk virtio1: [vda] new size: 536870912 512-byte logical blocks (275 GB/256 GiB)\n[12795.190021] EXT4-fs (vda): resizing filesystem from 66060288 to 67108864 blocks\n[12795.224871] EXT4-fs (vda): resized filesystem to 67108864\n[13002.118230] IPv4: martian source 10.0.3.255 from 10.0.3.1, on dev eth0\n[13002.118239] ll header: 00000000: ff ff ff ff ff ff 06 4a 1c 9e 22 01 08 06\n[13310.912284] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/app.slice,task=java,pid=18244,uid=1000\n[13310.912324] Out of memory: Killed process 18244 (java) total-vm:8123452kB, anon-rss:5923312kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:12212kB oom_score_adj:0\n[13311.004518] systemd-journald[211]: /dev/kmsg buffer overrun, some messages lost.\n";
