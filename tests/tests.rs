//! End-to-end tests of the `fixcast` binary: one test binary, a module per area.

mod commands;
mod config;
mod crash;
mod fixes;
mod http;
mod http_long;
mod http_util;
mod import_export;
mod integration_fish4;
mod integration_preexec_atuin;
mod integration_shells;
mod integration_tools;
mod live;
mod ls_show_rm;
mod on_terminal;
mod play;
mod rec;
mod redaction;
mod safe_replay;
mod search;
mod upload;
mod util;
mod web;
