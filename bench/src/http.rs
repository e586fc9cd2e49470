//! A minimal HTTP/1.1 client for the benchmarks: keep-alive GETs on loopback, bounded
//! by timeouts, no dependencies.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{bail, Context};

/// One HTTP/1.1 connection, kept alive between requests.
pub struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// The server closes the connection after this answer.
    pub close: bool,
}

impl Conn {
    pub fn open(addr: SocketAddr, timeout: Duration) -> anyhow::Result<Conn> {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .with_context(|| format!("cannot connect to {addr}"))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        Ok(Conn {
            stream: BufReader::with_capacity(64 * 1024, s),
            host: addr.to_string(),
        })
    }

    pub fn get(&mut self, path: &str) -> anyhow::Result<Answer> {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: */*\r\n\r\n",
            self.host
        );
        self.stream.get_mut().write_all(req.as_bytes())?;
        let mut line = String::new();
        self.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {line:?}"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            line.clear();
            self.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((name, value)) = l.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .with_context(|| format!("bad chunk size {line:?}"))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        line.clear();
                        self.read_line(&mut line)?;
                        if line.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let at = body.len();
                body.resize(at + size, 0);
                self.stream.read_exact(&mut body[at..])?;
                line.clear();
                self.read_line(&mut line)?;
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            self.stream.read_exact(&mut body)?;
        } else {
            self.stream.read_to_end(&mut body)?;
            close = true;
        }
        Ok(Answer {
            status,
            body,
            close,
        })
    }

    fn read_line(&mut self, line: &mut String) -> anyhow::Result<()> {
        if self.stream.read_line(line)? == 0 {
            bail!("connection closed by the server");
        }
        Ok(())
    }
}

/// One request on a fresh connection.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> anyhow::Result<(u16, Vec<u8>)> {
    let a = Conn::open(addr, timeout)?.get(path)?;
    Ok((a.status, a.body))
}
