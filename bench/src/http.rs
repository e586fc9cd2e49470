//! The benchmarks' HTTP client: `ureq`, the client `fixcast rec --server` uses, on
//! loopback, bounded by timeouts. A [`Conn`] is one agent: its requests go back to back
//! over one kept-alive connection, which ureq opens again when the server closes it.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

/// One client, its connection kept alive between requests.
pub struct Conn {
    agent: ureq::Agent,
    base: String,
}

pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Conn {
    /// A client of the server at `addr`; each read and write waits at most `timeout`.
    pub fn open(addr: SocketAddr, timeout: Duration) -> Conn {
        let agent = ureq::Agent::config_builder()
            // The status is the bench's to judge.
            .http_status_as_error(false)
            .proxy(None)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_per_read(Some(timeout))
            .timeout_per_write(Some(timeout))
            // One connection per client: a client's requests are one after another.
            .max_idle_connections_per_host(1)
            .build()
            .into();
        Conn {
            agent,
            base: format!("http://{addr}"),
        }
    }

    pub fn get(&self, path: &str) -> anyhow::Result<Answer> {
        let mut r = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Accept", "*/*")
            .call()
            .with_context(|| format!("GET {}{path}", self.base))?;
        let status = r.status().as_u16();
        // Whole recordings come back: no limit but the timeouts.
        let body = r
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .with_context(|| format!("GET {}{path}: the body", self.base))?;
        Ok(Answer { status, body })
    }
}

/// One request from a client of its own.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> anyhow::Result<(u16, Vec<u8>)> {
    let a = Conn::open(addr, timeout).get(path)?;
    Ok((a.status, a.body))
}
