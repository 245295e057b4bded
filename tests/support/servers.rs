//! Servers a test owns: a MongoDB-wire server (nx-27017 from the test virtualenv) and
//! a PostgreSQL 15 cluster, each started on a free loopback port with its data in a
//! temporary folder, so that a test can stop and restart them in the middle of a run
//! without disturbing the shared servers other tests use. Data survives a restart.
//!
//! Also [`Spawned`]: a binary running in the background, so that a test can act on
//! its servers while it runs and collect its output afterwards.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::Run;

/// A loopback port nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a free port");
    listener.local_addr().expect("the bound address").port()
}

fn wait_listening(port: u16, what: &str, log: &Path) {
    for _ in 0..600 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(log).unwrap_or_default();
    panic!("{what} did not listen on port {port} within 60s; its log:\n{log}");
}

/// nx-27017 from `$TRENDPIPE_VENV` (set by `scripts/test.sh`), with its data folder.
pub struct OwnMongo {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

impl OwnMongo {
    /// Starts a server on a free port. Panics when `TRENDPIPE_VENV` is not set.
    pub fn start() -> Self {
        let mut server = Self { dir: tempfile::tempdir().expect("a temporary folder"), port: free_port(), child: None };
        std::fs::create_dir_all(server.dir.path().join("data")).expect("the data folder");
        server.restart();
        server
    }

    fn program() -> PathBuf {
        let venv = match std::env::var("TRENDPIPE_VENV") {
            Ok(v) if !v.trim().is_empty() => v,
            _ => panic!(
                "TRENDPIPE_VENV is not set: this test starts its own nx-27017 from the test virtualenv; run it through scripts/test.sh"
            ),
        };
        let program = Path::new(&venv).join("bin").join("nx-27017");
        assert!(program.exists(), "{} is missing: the test virtualenv has no nx-27017", program.display());
        program
    }

    /// Starts the server again on the same port and data (after [`OwnMongo::stop`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let dir = self.dir.path();
        let log = dir.join("log");
        let child = Command::new(Self::program())
            .args(["--host", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--log-file")
            .arg(&log)
            // Its own pid file: the default one is shared by every server of the machine.
            .arg("--pid-file")
            .arg(dir.join("pid"))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nx-27017");
        self.child = Some(child);
        wait_listening(self.port, "nx-27017", &log);
    }

    /// Kills the server (as a crash or a host going away would) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            // A killed server leaves its pid file, which would stop the restart.
            let _ = std::fs::remove_file(self.dir.path().join("pid"));
        }
    }

    /// The server's URI, with a short server-selection timeout so that a test of a
    /// stopped server does not wait the tools' default 10 seconds at each step.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?serverSelectionTimeoutMS=3000", self.port)
    }

    /// The server's address as error messages name it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnMongo {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The password the test URLs carry, which no output may show.
pub const PASSWORD: &str = "s3cret-fault-pw";

/// A PostgreSQL cluster made with `initdb` (run as `nobody`: initdb refuses root).
pub struct OwnPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    running: bool,
}

fn as_pg_user(program: &Path) -> Command {
    // Whether we are root, asked of `id` rather than through a libc dependency.
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "nobody", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

impl OwnPostgres {
    /// Creates and starts a cluster on a free port (binaries of PostgreSQL 15 under
    /// /usr/lib/postgresql, or `pg_config --bindir`).
    pub fn start() -> Self {
        let bin = ["/usr/lib/postgresql/15/bin".to_owned()]
            .into_iter()
            .chain(
                Command::new("pg_config")
                    .arg("--bindir")
                    .output()
                    .ok()
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()),
            )
            .map(PathBuf::from)
            .find(|b| b.join("initdb").exists())
            .unwrap_or_else(|| panic!("no PostgreSQL initdb found: install PostgreSQL 15"));
        let dir = tempfile::tempdir().expect("a temporary folder");
        let _ = Command::new("chown").arg("nobody").arg(dir.path()).status();
        let out = as_pg_user(&bin.join("initdb"))
            .arg("-D")
            .arg(dir.path().join("data"))
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("running initdb");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let mut server = Self { dir, bin, port: free_port(), running: false };
        server.restart();
        server
    }

    /// Starts the cluster again (after [`OwnPostgres::stop`]), same port and data.
    pub fn restart(&mut self) {
        let dir = self.dir.path();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off",
            self.port,
            dir.display()
        );
        let out = as_pg_user(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .output()
            .expect("running pg_ctl start");
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        assert!(out.status.success(), "pg_ctl start failed: {}\n{log}", String::from_utf8_lossy(&out.stderr));
        self.running = true;
    }

    /// Stops the cluster at once (`-m immediate`: connections are cut as by a crash).
    pub fn stop(&mut self) {
        if self.running {
            let _ = as_pg_user(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["-m", "immediate", "-w", "stop"])
                .output();
            self.running = false;
        }
    }

    /// The URL of the admin database, with a password (trust authentication ignores
    /// it; it is there to be masked).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres", self.port)
    }

    /// The server's address as error messages name it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A binary running in the background; its output is collected by threads so that
/// it never blocks on a full pipe.
pub struct Spawned {
    child: Child,
    out: std::thread::JoinHandle<Vec<u8>>,
    err: std::thread::JoinHandle<Vec<u8>>,
}

impl Spawned {
    /// Starts `name` as [`crate::run`] does (same environment rules), feeding `stdin`.
    pub fn start(name: &str, args: &[&str], env: &[(&str, &str)], stdin: Vec<u8>, dir: &Path) -> Self {
        let mut cmd = crate::command(name, args, env, dir);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
        let mut input = child.stdin.take().expect("stdin is piped");
        std::thread::spawn(move || {
            let _ = input.write_all(&stdin);
        });
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let out = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stdout.read_to_end(&mut buf);
            buf
        });
        let err = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            buf
        });
        Self { child, out, err }
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("polling the child").is_none()
    }

    /// Waits for the end and returns what it did.
    pub fn finish(mut self) -> Run {
        let status = self.child.wait().expect("waiting for the child");
        let stdout = self.out.join().unwrap_or_default();
        let stderr = self.err.join().unwrap_or_default();
        Run {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}
