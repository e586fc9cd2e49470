//! End-to-end tests of the `fixcast` binary: one test binary, a module per area.

mod commands;
mod concurrency;
mod config;
mod crash;
mod import_export;
mod integration_fish4;
mod integration_preexec_atuin;
mod integration_shells;
mod integration_tools;
mod kill;
mod kill_index;
mod live;
mod ls_show_rm;
mod on_terminal;
mod play;
mod rec;
mod rec_input;
mod redaction;
mod reliability;
mod safe_replay;
mod search;
mod upload;
mod util;
mod web;
