//! The command line, as clap derive types. Parsing only: behaviour lives in `cmd/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "fixcast",
    version,
    about = "Record the shell you debug in; search and replay every fix."
)]
pub struct Cli {
    /// Where sessions live [default: $FIXCAST_HOME, else ~/.local/share/fixcast]
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record a shell (or a command) in a PTY
    Rec(RecArgs),
    /// List sessions, newest first
    Ls(LsArgs),
    /// Show a session's metadata
    Show(ShowArgs),
    /// Replay a session in the terminal
    Play(PlayArgs),
    /// Write a session out as asciicast v3/v2, raw bytes or plain text
    Export(ExportArgs),
    /// Import asciicast v1/v2/v3 files (also .zst and .gz)
    Import(ImportArgs),
    /// Change a session's title, tags, notes, or the command marked as its fix
    Edit(EditArgs),
    /// Delete sessions
    Rm(RmArgs),
    /// Search the commands of every session (`search --help` has the query syntax)
    #[command(after_long_help = SEARCH_SYNTAX)]
    Search(SearchArgs),
    /// Past fixes for an error: fixcast fix 'Operation not permitted', or
    /// some-cmd 2>&1 | fixcast fix
    Fix(FixArgs),
    /// Rebuild the search index from the sessions
    Reindex(ReindexArgs),
    /// Serve the web knowledge base: search, browse and replay sessions in a browser
    Serve(ServeArgs),
    /// Redact secrets in a recorded session again, with the current patterns
    Redact(RedactArgs),
    /// Rewrite finished sessions' recordings once, strongly compressed (done by itself
    /// after rec and import; this is for sessions recorded before)
    Compact(CompactArgs),
    /// Record a few scripted fixes for real (a bash in a PTY, in a sandbox) into a demo
    /// home, index them, and optionally serve them: fixcast's point in one command
    Demo(DemoArgs),
    /// Print a shell completion script: fixcast completions bash > ~/.local/share/bash-completion/completions/fixcast
    Completions(CompletionsArgs),
    /// Print the man page (roff): fixcast man | man -l -
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Then serve the web page on the demo's sessions (Ctrl-C to stop)
    #[arg(long)]
    pub serve: bool,
    /// With --serve: open it in a browser
    #[arg(long, requires = "serve")]
    pub open: bool,
    /// With --serve: the address to listen on (default 127.0.0.1:7878)
    #[arg(long, value_name = "ADDR:PORT", requires = "serve")]
    pub bind: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write fixcast.1 and a page per subcommand (fixcast-rec.1, ...) into DIR instead
    /// of printing fixcast.1
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RecArgs {
    /// Command to record instead of an interactive shell (run through $SHELL -c)
    #[arg(short = 'c', long)]
    pub command: Option<String>,
    /// Session title
    #[arg(short = 't', long)]
    pub title: Option<String>,
    /// Tag the session (repeatable)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Also record keystrokes (never those typed with echo off)
    #[arg(long)]
    pub record_input: bool,
    /// Cap pauses at this many seconds when replaying
    #[arg(long, value_name = "SECS")]
    pub idle_time_limit: Option<f64>,
    /// Terminal width when there is no terminal to measure
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub cols: Option<u16>,
    /// Terminal height when there is no terminal to measure
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub rows: Option<u16>,
    /// Record even inside another fixcast session
    #[arg(long)]
    pub force: bool,
    /// Record secrets as they are (tokens, keys, passwords are redacted by default)
    #[arg(long)]
    pub no_redact: bool,
    /// Say nothing when a failed command's error was seen (and fixed) before (default:
    /// `[rec] hints` in the config file)
    #[arg(long)]
    pub no_hints: bool,
    /// Stream the recording to a `fixcast serve` too (http://HOST:PORT or https://HOST), while it is
    /// written locally as usual (default: `[server] url` in the config file)
    #[arg(long, env = "FIXCAST_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Token of that server, needed when it is not on this machine (default: `[server]
    /// token` in the config file)
    #[arg(
        long,
        env = "FIXCAST_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Print one JSON array with full ids and metadata
    #[arg(long)]
    pub json: bool,
    /// Show at most N sessions
    #[arg(long, short = 'n', value_name = "N", value_parser = at_least_one())]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Session id, a unique prefix of one, or last (the newest session), last~N (the N-th
    /// before it)
    pub id: String,
    /// Print the metadata as JSON
    #[arg(long)]
    pub json: bool,
    /// List the session's commands: seq, offset, duration, exit, cwd, command, and
    /// which failed, fixed and verified
    #[arg(long)]
    pub commands: bool,
    /// The session's fixes: each failure with its diagnostics, fix and verification
    #[arg(long, conflicts_with = "commands")]
    pub fix: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Keys, on a terminal:
  space   pause or resume (\"paused\" shows at the bottom right)
  .       while paused: play up to the next change on the screen
  ]       jump to the next command
  [       jump to the start of this command (the one before, if just there)
  q       quit (Ctrl-C too)

However it ends (the end, q, Ctrl-C, SIGTERM or SIGHUP), the terminal is given back
as a shell's prompt needs it: main screen, normal cursor keys and keypad, no mouse or
focus reporting, bracketed paste off, cursor shown, colours reset, the title as it was.
A signal exits with 128 + its number.")]
pub struct PlayArgs {
    /// Session id, a unique prefix of one, or last (the newest session), last~N (the N-th
    /// before it)
    pub id: String,
    /// Playback speed multiplier
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Cap pauses at this many seconds
    #[arg(long, value_name = "SECS")]
    pub idle_time_limit: Option<f64>,
    /// Start this many seconds in
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    pub at: f64,
    /// Let the recording drive the terminal (clipboard, reports, links): no safe-replay filter
    #[arg(long)]
    pub trust: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// asciicast v3 (what fixcast stores)
    CastV3,
    /// asciicast v2 (asciinema 2.x)
    CastV2,
    /// the output bytes, as the terminal received them
    Raw,
    /// plain text as the screen showed it: scrollback and final screen
    Txt,
    /// a Markdown runbook: each failure with its investigation, fix and verification
    Md,
    /// one standalone HTML page that plays the session (player and recording inline,
    /// a chapter per command) above the runbook; opens from disk, no network
    Html,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Session id, a unique prefix of one, or last (the newest session), last~N (the N-th
    /// before it)
    pub id: String,
    /// What to write [default: cast-v3; with --command: txt]
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<ExportFormat>,
    /// Write here instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With `--format txt`: only this command's output (its number in `show --commands`)
    #[arg(long, value_name = "N")]
    pub command: Option<u32>,
    /// With `--format raw` to a terminal: write every byte, no safe-replay filter
    #[arg(long)]
    pub trust: bool,
}

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Session ids, unique prefixes, or last, last~N (the newest session, the N-th before it)
    #[arg(required = true)]
    pub ids: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Session ids, unique prefixes, or last, last~N (the newest session, the N-th before it)
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub ids: Vec<String>,
    /// Every finished session not compacted yet
    #[arg(long)]
    pub all: bool,
    /// Print nothing but errors (as rec's background compaction runs it)
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// asciicast files (v1, v2, v3; plain, .zst or .gz)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Refuse a file larger than this once decompressed (K, M, G suffixes)
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_byte_size)]
    pub max_size: u64,
    /// Import a file again that was imported before (by default it is skipped, and the
    /// session it became is named)
    #[arg(long)]
    pub force: bool,
}

/// A count of things to show: 0 would show nothing and look like "no matches".
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..)
}

/// `256M`, `2G`, `512K`, `1000` (bytes); powers of 1024.
fn parse_byte_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let shift = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("{s:?} is not a size (a number with K, M or G)")),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{s:?} is not a size above 0 (a number with K, M or G)"))
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("change")
        .args(["title", "tags", "note", "fix", "no_fix"])
        .required(true)
        .multiple(true)
))]
pub struct EditArgs {
    /// Session id, a unique prefix of one, or last (the newest session), last~N (the N-th
    /// before it)
    pub id: String,
    /// Set the title ('' clears it)
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,
    /// +TAG adds a tag, -TAG removes one, TAG adds (repeatable)
    #[arg(long = "tag", value_name = "+TAG|-TAG", allow_hyphen_values = true)]
    pub tags: Vec<String>,
    /// Set the notes ('' clears them)
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Mark command SEQ (its number in `show --commands`) as the session's fix
    #[arg(long, value_name = "SEQ", conflicts_with = "no_fix")]
    pub fix: Option<u32>,
    /// Clear the marked fix: the inferred one counts again
    #[arg(long)]
    pub no_fix: bool,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Session ids, unique prefixes, or last, last~N (the newest session, the N-th before it)
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// Do not ask
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words, "phrases", -excluded, a OR b, field:value (the fields: see `--help`).
    /// Quote it, or put it after `--`, when it has flags: fixcast search 'chattr -i'
    #[arg(required = true, value_name = "QUERY")]
    pub query: Vec<String>,
    /// Show at most N hits (with --sessions: N sessions)
    #[arg(long, short = 'n', value_name = "N", default_value_t = 10, value_parser = at_least_one())]
    pub limit: usize,
    /// Print one JSON array: a hit each, with session, seq, offset, command, cwd, exit,
    /// title, snippet, play, and what fixed it (fix, fixes, verifies)
    #[arg(long)]
    pub json: bool,
    /// Also show the K commands that followed each hit in its session
    #[arg(long, short = 'C', value_name = "K", default_value_t = 0)]
    pub context: usize,
    /// Group hits by session
    #[arg(long)]
    pub sessions: bool,
}

/// The query syntax, in `fixcast search --help`: an installed fixcast has no README at
/// hand. Keep it in step with the README's *Query syntax* and the parser's fields.
const SEARCH_SYNTAX: &str = r#"Query syntax:
  word                 in the command line, output, session title, tags or notes;
                       several words: all must match
  "a phrase"           these words, in this order, next to each other
  -word, NOT word      exclude; -i, -rf, -xvf and --long-flags are searched as typed
                       (NOT -i excludes a flag)
  a OR b               either; binds tighter than the implicit AND
  cmd:VALUE            in the command line (also command:)
  out:VALUE            in its output (also output:)
  cwd:VALUE            in its working directory (also dir:)
  host: user: shell:   of the session
  tag: title: notes:   of the session (also tags:, note:)
  exit:0 exit:N        exit status is N (also status:)
  exit:!0 exit:!N      exit status is not N (exit:!0: any failure)
  session:01J8         sessions whose id starts with this (also id:); session:last is
                       the newest session, session:last~1 the one before
  after:DATE           ran after DATE (also since:); before:DATE (also until:):
                       2026-01-31, 2026-01-31T14:00, today, yesterday, or an age: 12h,
                       7d, 2w
  suspicious:true      commands typed with look-alike characters (Cyrillic с in kubeсtl)

A value may be quoted: out:"Operation not permitted". Matching ignores case and accents;
text is cut like shell text, so /lib64/ld-linux-x86-64.so.2 is found by ld-linux,
ld-linux.so, linux and +x. A name:value whose name is not a field is an error: quote it
to search for the text itself ("root:root").

Examples:
  fixcast search '"Operation not permitted"'
  fixcast search 'cmd:chattr exit:0'
  fixcast search -C 3 'exit:!0 host:node1 after:7d'

Exit status: 0 some hits, 1 no hits, 2 a query that cannot be run."#;

#[derive(Debug, Args)]
pub struct FixArgs {
    /// The error (or a query, as for `search`); without it, the error text is read
    /// from standard input
    #[arg(value_name = "ERROR")]
    pub query: Vec<String>,
    /// Show at most N fixes
    #[arg(long, short = 'n', value_name = "N", default_value_t = 5, value_parser = at_least_one())]
    pub limit: usize,
    /// Print one JSON array
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReindexArgs {}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:7878, or `[serve] bind` in the config
    /// file); anything but loopback needs --token
    #[arg(long, value_name = "ADDR:PORT")]
    pub bind: Option<std::net::SocketAddr>,
    /// Token every page and API call must carry (Authorization: Bearer, or the cookie
    /// set by opening /?token=TOKEN once; default: `[serve] token` in the config file)
    #[arg(
        long,
        env = "FIXCAST_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Open the home page in a browser
    #[arg(long)]
    pub open: bool,
    /// Connections one client address may hold at once (an IPv6 client counts per
    /// /64); more are answered 429. Raise it for many viewers behind one NAT
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_ip: u32,
}
