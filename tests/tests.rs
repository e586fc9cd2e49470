//! End-to-end tests of the `fixcast` binary: one test binary, a module per area.

mod util;
