//! Shared by the router tests: a temp store with sessions, a fake knowledge base, and
//! requests sent through `app(state)` with `oneshot`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use fixcast_indexer::{CommandIndex, Hit, Outputs, Query, WriterOptions};
use fixcast_sessions::asciicast::{Header, Recording};
use fixcast_sessions::synthetic::{self, Long};
use fixcast_sessions::{
    Again, CommandRecord, CommandSource, Event, EventKind, SessionId, SessionMeta, Store,
};
use fixcast_web::{app, AppState, Knowledge, KnowledgeError};
use serde_json::Value;
use tower::ServiceExt;

pub struct Fake {
    pub commands: Mutex<HashMap<SessionId, Vec<CommandRecord>>>,
    pub index: CommandIndex,
    pub reindexed: Mutex<Vec<SessionMeta>>,
}

impl Knowledge for Fake {
    fn commands(
        &self,
        _: &Store,
        meta: &SessionMeta,
        _: bool,
    ) -> Result<Vec<CommandRecord>, KnowledgeError> {
        Ok(self
            .commands
            .lock()
            .unwrap()
            .get(&meta.id)
            .cloned()
            .unwrap_or_default())
    }
    fn search(&self, _: &Store, q: &Query, limit: usize) -> Result<Vec<Hit>, KnowledgeError> {
        Ok(self.index.search(q, limit, self)?)
    }
    fn reindex(&self, _: &Store, meta: &SessionMeta) -> Result<(), KnowledgeError> {
        let cmds = self
            .commands
            .lock()
            .unwrap()
            .get(&meta.id)
            .cloned()
            .unwrap_or_default();
        let mut w = self.index.writer(WriterOptions::default())?;
        w.index_session(meta, &cmds)?;
        w.commit()?;
        self.index.reload()?;
        self.reindexed.lock().unwrap().push(meta.clone());
        Ok(())
    }
}

/// The output of the commands it was given: what the snippets are made from.
impl Outputs for Fake {
    fn outputs(&self, session: &str, wanted: &[Again]) -> HashMap<u32, String> {
        let commands = self.commands.lock().unwrap();
        let Some(cmds) = session
            .parse()
            .ok()
            .and_then(|id: SessionId| commands.get(&id))
        else {
            return HashMap::new();
        };
        cmds.iter()
            .filter(|c| wanted.iter().any(|w| w.record.seq == c.seq))
            .map(|c| (c.seq, c.output.clone()))
            .collect()
    }
}

pub const XSS: &str = r#"<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a>'"&"#;

pub struct World {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub fake: Arc<Fake>,
    pub id: SessionId,
    pub long: SessionId,
}

pub fn cmd(seq: u32, start: f64, command: &str, output: &str, exit: i32) -> CommandRecord {
    let mut c = CommandRecord::new(
        seq,
        start,
        start + 0.5,
        command.into(),
        CommandSource::Integration,
    );
    c.cwd = Some("/etc".into());
    c.exit = Some(exit);
    c.output = output.into();
    c.flag_confusables();
    c
}

pub fn import(store: &Store, title: &str, events: Vec<Event>) -> SessionMeta {
    let rec = Recording {
        header: Header {
            cols: 80,
            rows: 24,
            ..Header::default()
        },
        events,
        damage: Vec::new(),
    };
    let mut meta = SessionMeta::new(SessionId::generate(), 80, 24);
    meta.title = Some(title.into());
    meta.tags = vec!["dns".into()];
    store.import(&rec, meta).unwrap()
}

pub fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let out = |t: u64, s: &str| Event::new(t, EventKind::Output(s.into()));
    let meta = import(
        &store,
        &format!("resolv.conf is stuck {XSS}"),
        vec![
            out(
                500_000,
                "$ lsattr /etc/resolv.conf\r\n----i--- /etc/resolv.conf\r\n",
            ),
            out(
                2_000_000,
                &format!("$ chattr -i /etc/resolv.conf\r\nunlocked {XSS}\r\n"),
            ),
            out(3_000_000, "$ "),
        ],
    );
    // A long one: enough output for several segments, a counter to find on screen: 3000
    // lines of 1008 bytes, one a millisecond from 0, then the end at 3 s.
    let line = "x".repeat(1000);
    let layout = Long {
        bytes: 3000 * 1008,
        event_bytes: 1,
        step: 1000,
        first: Some(0),
        pause: 1000,
    };
    let mut long = SessionMeta::new(SessionId::generate(), 80, 24);
    long.title = Some("long".into());
    long.tags = vec!["dns".into()];
    let long = synthetic::long_session(
        &store,
        long,
        &layout,
        |n| format!("{:05} {line}\r\n", n - 1),
        |_| "\x1b[2J\x1b[HTHE END\r\n".into(),
    )
    .unwrap()
    .meta;
    let fake = Arc::new(Fake {
        commands: Mutex::new(HashMap::from([
            (
                meta.id.clone(),
                vec![
                    cmd(
                        1,
                        0.5,
                        "lsattr /etc/resolv.conf",
                        "----i--- /etc/resolv.conf\n",
                        0,
                    ),
                    cmd(
                        2,
                        2.0,
                        "chattr -i /etc/resolv.conf",
                        &format!("unlocked {XSS}\n"),
                        0,
                    ),
                ],
            ),
            (
                long.id.clone(),
                // `kubeсtl` with a Cyrillic `с`: a look-alike that must be pointed out.
                vec![
                    cmd(1, 0.0, "yes", "x", 0),
                    cmd(2, 1.0, "kube\u{441}tl get pods", "", 1),
                ],
            ),
        ])),
        index: CommandIndex::in_ram(),
        reindexed: Mutex::new(Vec::new()),
    });
    fake.reindex(&store, &meta).unwrap();
    World {
        _dir: dir,
        store,
        fake,
        id: meta.id,
        long: long.id,
    }
}

impl World {
    pub fn app(&self, token: Option<&str>) -> Router {
        app(AppState::new(
            self.store.clone(),
            self.fake.clone(),
            token.map(str::to_owned),
        ))
    }

    /// The app of a server that caches every session's segments on disk (by default
    /// only long recordings' are).
    pub fn app_on_disk(&self) -> Router {
        app(AppState::new(self.store.clone(), self.fake.clone(), None).segments_on_disk_from(0))
    }

    /// The app of a server listening on `addr`.
    pub fn app_bound(&self, token: Option<&str>, addr: &std::net::SocketAddr) -> Router {
        app(AppState::new(
            self.store.clone(),
            self.fake.clone(),
            token.map(str::to_owned),
        )
        .bound_to(addr))
    }
}

pub struct Res {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Res {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// An API error: JSON with the status and a message.
    pub fn error(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        let j = self.json();
        assert_eq!(j["status"], status.as_u16());
        j["error"].as_str().expect("error message").to_owned()
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Res {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Res {
        status,
        headers,
        body,
    }
}

pub async fn get(app: &Router, uri: &str) -> Res {
    send(
        app,
        Request::get(uri)
            .header(header::HOST, "127.0.0.1:7878")
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

pub async fn patch(app: &Router, uri: &str, ctype: &str, body: impl Into<Body>) -> Res {
    let req = Request::builder()
        .method(Method::PATCH)
        .uri(uri)
        .header(header::CONTENT_TYPE, ctype)
        .body(body.into())
        .unwrap();
    send(app, req).await
}
