//! A provider that misbehaves at the TCP level, for the faults `wiremock` cannot
//! produce: a connection reset, a body cut short of its `Content-Length`, a chunked
//! body that never ends; and a way to run a binary that kills it if it hangs.
//!
//! The server is a plain tokio `TcpListener` that reads a request's head and answers
//! as the route says. It counts the requests per path, so a test can check that
//! retries were bounded.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::Run;

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A complete answer with these extra headers.
    Ok { content_type: &'static str, headers: Vec<(String, String)>, body: Vec<u8> },
    /// The connection is reset (`SO_LINGER` 0, then closed) once the request is read.
    Reset,
    /// The headers promise the whole body, half of it is sent, then the connection closes.
    Truncated { content_type: &'static str, body: Vec<u8> },
    /// A chunked body that opens like JSON and then sends a space a second, forever.
    Endless,
}

impl Answer {
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Answer::Ok { content_type: "application/json", headers: Vec::new(), body: body.into() }
    }
}

type Route = dyn Fn(&str) -> Answer + Send + Sync;

/// A running faulty server; it stops when dropped.
pub struct FaultyServer {
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultyServer {
    /// Starts a server on a free loopback port; `route` maps each request target
    /// (path and query) to its answer.
    pub async fn start(route: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let route: Arc<Route> = Arc::new(route);
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (route, seen) = (route.clone(), seen.clone());
                tokio::spawn(async move {
                    // A client that went away is the point of most answers: errors end the connection.
                    let _ = serve(stream, &*route, &seen).await;
                });
            }
        });
        Self { addr, requests, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request targets received so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("the request log").clone()
    }
}

async fn serve(mut stream: TcpStream, route: &Route, seen: &Mutex<Vec<String>>) -> std::io::Result<()> {
    loop {
        let Some(target) = read_head(&mut stream).await? else { return Ok(()) };
        seen.lock().expect("the request log").push(target.clone());
        match route(&target) {
            Answer::Ok { content_type, headers, body } => {
                let mut head =
                    format!("HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n", body.len());
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(&body).await?;
                stream.flush().await?;
            }
            Answer::Reset => {
                stream.set_zero_linger()?;
                return Ok(());
            }
            Answer::Truncated { content_type, body } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(&body[..body.len() / 2]).await?;
                stream.shutdown().await?;
                return Ok(());
            }
            Answer::Endless => {
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1\r\n[\r\n";
                stream.write_all(head.as_bytes()).await?;
                loop {
                    stream.flush().await?;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    stream.write_all(b"1\r\n \r\n").await?;
                }
            }
        }
    }
}

/// Reads one request head and gives its target; `None` when the client closed.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    Ok(text.split_whitespace().nth(1).map(str::to_owned))
}

/// Runs a workspace binary like [`crate::run`], but kills it and fails the test if it
/// has not finished after `limit`: the guard against a hang, not a measure of speed.
pub fn run_within(
    name: &str,
    args: &[String],
    env: &[(String, String)],
    stdin: &[u8],
    dir: &std::path::Path,
    limit: Duration,
) -> Run {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(crate::bin(name));
    cmd.args(args).current_dir(dir).env("HOME", dir).env("XDG_CONFIG_HOME", dir);
    for var in ["MONGODB_URI", "DATABASE_URL", "X_BEARER_TOKEN", "BLUESKY_TOKEN", "TRENDPIPE_CONFIG", "TRENDPIPE_LOG"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v))).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {name}: {e}"));
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout is piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr is piped")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = writer.join();
    let (stdout, stderr) = (stdout.join().expect("stdout reader"), stderr.join().expect("stderr reader"));
    match status {
        Some(status) => Run { code: status.code(), stdout, stderr },
        None => panic!("{name} {args:?} hung: killed after {limit:?}; stderr so far:\n{stderr}"),
    }
}

/// [`run_within`] off the async runtime, so that the test's mock servers keep answering.
pub async fn spawn_within(
    name: &'static str,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Vec<u8>,
    limit: Duration,
) -> Run {
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("a temporary directory");
        run_within(name, &args, &env, &stdin, dir.path(), limit)
    })
    .await
    .expect("the run's thread")
}
