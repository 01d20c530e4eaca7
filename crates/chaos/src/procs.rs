//! The processes of the run (PostgreSQL, Redis, five services, the
//! gateway), each a child of this process that it can kill, pause and
//! start again. Signals go to one PID at a time, through `kill(1)`; nothing
//! is ever signalled by name. A monitor notices processes that exit on
//! their own, records it (an exit of a process that had been ready is a
//! finding: nothing in the mesh should die of a fault elsewhere) and starts
//! them again.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// How often the monitor looks at every process.
const MONITOR_TICK: Duration = Duration::from_millis(200);
/// Pause before a process that exited on its own is started again.
const RESPAWN_BACKOFF: Duration = Duration::from_secs(1);
/// How long a stopped process may take to exit before it gets SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// Limit of one readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Exits while waiting for a process to be ready before giving up on it.
const START_FAILURES_MAX: usize = 5;
/// Lines of a process's log shown with a finding.
const LOG_TAIL_LINES: usize = 12;

/// How to tell that a process serves.
#[derive(Clone, Debug)]
pub enum Probe {
    /// `GET /readyz` on the admin port answers 200 (database and Redis reachable).
    Readyz(SocketAddr),
    /// The port accepts TCP connections.
    Tcp(SocketAddr),
    /// `pg_isready` says the server accepts connections.
    PgIsReady {
        /// The `pg_isready` binary.
        program: PathBuf,
        /// The server's port on 127.0.0.1.
        port: u16,
    },
    /// `PING` answers `+PONG`.
    RedisPing(SocketAddr),
}

/// How to start one process.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Short name (`transfer`, `postgres`, ...).
    pub name: &'static str,
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Extra environment.
    pub env: Vec<(OsString, OsString)>,
    /// Working directory.
    pub cwd: PathBuf,
    /// File that collects stdout and stderr (appended across restarts).
    pub log: PathBuf,
    /// Run as this (uid, gid) instead of ours (PostgreSQL refuses root).
    pub run_as: Option<(u32, u32)>,
    /// Readiness.
    pub probe: Probe,
    /// Signal that stops it when the run ends (`TERM`, `QUIT`, `KILL`).
    pub stop_signal: &'static str,
}

/// A process that exited without being told to.
#[derive(Clone, Debug)]
pub struct ExitEvent {
    /// Which process.
    pub name: &'static str,
    /// Its exit status.
    pub status: String,
    /// Whether it had been ready since it was started (then the exit is a
    /// crash; otherwise a start that failed, e.g. while PostgreSQL was down).
    pub was_ready: bool,
    /// Seconds since the supervisor started.
    pub at_secs: f64,
    /// The end of its log at that moment.
    pub log_tail: String,
}

struct Slot {
    spec: Spec,
    child: Option<Child>,
    pid: Option<u32>,
    want_up: bool,
    ready: bool,
    starts: u32,
    respawn_at: Option<Instant>,
    paused: bool,
}

/// The children of this run.
pub struct Supervisor {
    slots: Mutex<BTreeMap<&'static str, Slot>>,
    exits: Mutex<Vec<ExitEvent>>,
    setpriv: Option<PathBuf>,
    epoch: Instant,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The last `lines` lines of `path`.
pub fn log_tail(path: &std::path::Path, lines: usize) -> String {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Sends `signal` (a name such as `KILL`, `STOP`) to one process by PID.
pub async fn send_signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .arg("-s")
        .arg(signal)
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .context("running kill(1)")?;
    anyhow::ensure!(status.success(), "kill -s {signal} {pid} failed: {status}");
    Ok(())
}

/// Whether `probe` passes now.
pub async fn probe(probe: &Probe) -> bool {
    tokio::time::timeout(PROBE_TIMEOUT, probe_once(probe))
        .await
        .unwrap_or(false)
}

async fn probe_once(probe: &Probe) -> bool {
    match probe {
        Probe::Tcp(addr) => TcpStream::connect(addr).await.is_ok(),
        Probe::Readyz(addr) => {
            let Ok(mut tcp) = TcpStream::connect(addr).await else {
                return false;
            };
            let request = "GET /readyz HTTP/1.1\r\nhost: chaos\r\nconnection: close\r\n\r\n";
            if tcp.write_all(request.as_bytes()).await.is_err() {
                return false;
            }
            let mut reply = Vec::new();
            if tcp.read_to_end(&mut reply).await.is_err() {
                return false;
            }
            String::from_utf8_lossy(&reply).split_whitespace().nth(1) == Some("200")
        }
        Probe::RedisPing(addr) => {
            let Ok(mut tcp) = TcpStream::connect(addr).await else {
                return false;
            };
            if tcp.write_all(b"PING\r\n").await.is_err() {
                return false;
            }
            let mut reply = [0_u8; 7];
            tcp.read_exact(&mut reply).await.is_ok() && &reply == b"+PONG\r\n"
        }
        Probe::PgIsReady { program, port } => Command::new(program)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .map(|s| s.success())
            .unwrap_or(false),
    }
}

impl Supervisor {
    /// An empty supervisor. With `setpriv` (util-linux), every child gets
    /// SIGKILL when this process dies, even by SIGKILL, so nothing outlives
    /// a killed run; it also runs PostgreSQL as its own user.
    pub fn new(setpriv: Option<PathBuf>) -> Self {
        Self {
            slots: Mutex::new(BTreeMap::new()),
            exits: Mutex::new(Vec::new()),
            setpriv,
            epoch: Instant::now(),
        }
    }

    /// Registers a process (not started yet).
    pub fn add(&self, spec: Spec) {
        let name = spec.name;
        lock(&self.slots).insert(
            name,
            Slot {
                spec,
                child: None,
                pid: None,
                want_up: false,
                ready: false,
                starts: 0,
                respawn_at: None,
                paused: false,
            },
        );
    }

    fn command(&self, spec: &Spec) -> anyhow::Result<Command> {
        let mut command = match &self.setpriv {
            Some(setpriv) => {
                let mut command = Command::new(setpriv);
                if let Some((uid, gid)) = spec.run_as {
                    command
                        .arg("--reuid")
                        .arg(uid.to_string())
                        .arg("--regid")
                        .arg(gid.to_string())
                        .arg("--clear-groups");
                }
                command.args(["--pdeathsig", "KILL", "--"]).arg(&spec.program);
                command
            }
            None => {
                anyhow::ensure!(
                    spec.run_as.is_none(),
                    "{} must run as another user, which needs setpriv (util-linux)",
                    spec.name
                );
                Command::new(&spec.program)
            }
        };
        command.args(&spec.args);
        Ok(command)
    }

    fn spawn_slot(&self, slot: &mut Slot) -> anyhow::Result<()> {
        use std::io::Write as _;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&slot.spec.log)
            .with_context(|| format!("opening {}", slot.spec.log.display()))?;
        slot.starts += 1;
        writeln!(
            log,
            "=== bank-chaos: start #{} of {} at +{:.1}s ===",
            slot.starts,
            slot.spec.name,
            self.epoch.elapsed().as_secs_f64()
        )?;
        let mut command = self.command(&slot.spec)?;
        // Our settings only: the developer's BANK_* variables would override
        // the TOML file, and an OTLP endpoint would receive our traces.
        for (key, _) in std::env::vars_os() {
            let text = key.to_string_lossy();
            if text.starts_with("BANK_") || text.starts_with("OTEL_") {
                command.env_remove(&key);
            }
        }
        command
            .envs(slot.spec.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&slot.spec.cwd)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            // Its own process group: a Ctrl-C at the terminal reaches only
            // us, and we stop the children in order.
            .process_group(0);
        let child = command
            .spawn()
            .with_context(|| format!("starting {} ({})", slot.spec.name, slot.spec.program.display()))?;
        slot.pid = child.id();
        slot.child = Some(child);
        slot.want_up = true;
        slot.ready = false;
        slot.paused = false;
        slot.respawn_at = None;
        Ok(())
    }

    /// Starts `name` (it must not be running).
    pub fn start(&self, name: &str) -> anyhow::Result<()> {
        let mut slots = lock(&self.slots);
        let slot = slots.get_mut(name).with_context(|| format!("no process {name}"))?;
        anyhow::ensure!(slot.child.is_none(), "{name} is already running");
        self.spawn_slot(slot)
    }

    /// Stops `name` with `signal` and waits for it to exit (SIGKILL after
    /// a grace period). It stays down until [`Supervisor::start`].
    pub async fn stop(&self, name: &str, signal: &str) -> anyhow::Result<()> {
        let (child, pid, paused) = {
            let mut slots = lock(&self.slots);
            let slot = slots.get_mut(name).with_context(|| format!("no process {name}"))?;
            slot.want_up = false;
            slot.ready = false;
            slot.respawn_at = None;
            let paused = std::mem::replace(&mut slot.paused, false);
            (slot.child.take(), slot.pid.take(), paused)
        };
        let (Some(mut child), Some(pid)) = (child, pid) else {
            return Ok(());
        };
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        send_signal(pid, signal).await?;
        if paused && signal != "KILL" {
            // A stopped process handles no signal but SIGKILL until continued.
            send_signal(pid, "CONT").await?;
        }
        if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_err() {
            child.start_kill()?;
            child.wait().await?;
        }
        Ok(())
    }

    /// Sends SIGSTOP or SIGCONT to `name`.
    pub async fn pause(&self, name: &str, paused: bool) -> anyhow::Result<()> {
        let pid = {
            let mut slots = lock(&self.slots);
            let slot = slots.get_mut(name).with_context(|| format!("no process {name}"))?;
            if slot.child.is_none() {
                return Ok(());
            }
            slot.paused = paused;
            slot.pid
        };
        if let Some(pid) = pid {
            send_signal(pid, if paused { "STOP" } else { "CONT" }).await?;
        }
        Ok(())
    }

    /// Continues every paused process and starts every process that should
    /// run but does not.
    pub async fn heal(&self) -> anyhow::Result<()> {
        let paused: Vec<&'static str> = lock(&self.slots)
            .iter()
            .filter(|(_, s)| s.paused)
            .map(|(n, _)| *n)
            .collect();
        for name in paused {
            self.pause(name, false).await?;
        }
        let mut slots = lock(&self.slots);
        for slot in slots.values_mut() {
            if slot.child.is_none() {
                self.spawn_slot(slot)?;
            }
        }
        Ok(())
    }

    /// Waits until every process in `names` passes its probe.
    pub async fn wait_ready(&self, names: &[&str], timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        for name in names {
            let exits_before = lock(&self.exits).iter().filter(|e| e.name == *name).count();
            let probe_of = lock(&self.slots)
                .get(*name)
                .map(|s| s.spec.probe.clone())
                .with_context(|| format!("no process {name}"))?;
            loop {
                if probe(&probe_of).await {
                    if let Some(slot) = lock(&self.slots).get_mut(*name)
                        && slot.child.is_some()
                    {
                        slot.ready = true;
                    }
                    break;
                }
                let failed_starts = lock(&self.exits).iter().filter(|e| e.name == *name).count();
                if Instant::now() > deadline || failed_starts > exits_before + START_FAILURES_MAX {
                    let log = lock(&self.slots).get(*name).map(|s| s.spec.log.clone());
                    let tail = log.map(|l| log_tail(&l, LOG_TAIL_LINES)).unwrap_or_default();
                    anyhow::bail!(
                        "{name} not ready ({} failed starts; waited up to {timeout:?}); its log ends:\n{tail}",
                        failed_starts - exits_before
                    );
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    /// Processes that exited on their own so far.
    pub fn exits(&self) -> Vec<ExitEvent> {
        lock(&self.exits).clone()
    }

    /// How often each process was started.
    pub fn starts(&self) -> BTreeMap<&'static str, u32> {
        lock(&self.slots).iter().map(|(n, s)| (*n, s.starts)).collect()
    }

    /// Runs forever: reaps processes that exited on their own, records the
    /// exit, and starts them again after a pause; marks started processes
    /// ready once their probe passes. Spawn it and abort it at the end.
    pub async fn monitor(&self) {
        let mut ticker = tokio::time::interval(MONITOR_TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let mut to_probe = Vec::new();
            {
                let mut slots = lock(&self.slots);
                for (name, slot) in slots.iter_mut() {
                    if let Some(child) = slot.child.as_mut()
                        && let Ok(Some(status)) = child.try_wait()
                    {
                        slot.child = None;
                        slot.pid = None;
                        if slot.want_up {
                            lock(&self.exits).push(ExitEvent {
                                name,
                                status: status.to_string(),
                                was_ready: slot.ready,
                                at_secs: self.epoch.elapsed().as_secs_f64(),
                                log_tail: log_tail(&slot.spec.log, LOG_TAIL_LINES),
                            });
                            eprintln!(
                                "bank-chaos: {name} exited on its own ({status}){}; starting it again",
                                if slot.ready {
                                    " after it was ready"
                                } else {
                                    " while starting"
                                }
                            );
                            slot.respawn_at = Some(Instant::now() + RESPAWN_BACKOFF);
                        }
                        slot.ready = false;
                    }
                    if slot.child.is_none()
                        && slot.want_up
                        && slot.respawn_at.is_some_and(|at| at <= Instant::now())
                        && let Err(error) = self.spawn_slot(slot)
                    {
                        eprintln!("bank-chaos: cannot start {name} again: {error:#}");
                        slot.respawn_at = Some(Instant::now() + RESPAWN_BACKOFF);
                    }
                    if slot.child.is_some() && !slot.ready && !slot.paused {
                        to_probe.push((*name, slot.spec.probe.clone(), slot.starts));
                    }
                }
            }
            for (name, probe_of, starts) in to_probe {
                if probe(&probe_of).await
                    && let Some(slot) = lock(&self.slots).get_mut(name)
                    && slot.starts == starts
                    && slot.child.is_some()
                {
                    slot.ready = true;
                }
            }
        }
    }

    /// Stops every process, in the reverse of `order` (PIDs we started
    /// only), and waits for them.
    pub async fn shutdown(&self, order: &[&str]) {
        for name in order.iter().rev() {
            let signal = lock(&self.slots).get(name).map(|s| s.spec.stop_signal);
            if let Some(signal) = signal
                && let Err(error) = self.stop(name, signal).await
            {
                eprintln!("bank-chaos: stopping {name}: {error:#}");
            }
        }
        // Anything not in `order`.
        let rest: Vec<&'static str> = lock(&self.slots).keys().copied().collect();
        for name in rest {
            if let Err(error) = self.stop(name, "KILL").await {
                eprintln!("bank-chaos: stopping {name}: {error:#}");
            }
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        // Last resort when `shutdown` did not run: SIGKILL what is left (by
        // PID, through the Child handles).
        let mut slots = lock(&self.slots);
        for slot in slots.values_mut() {
            if let Some(child) = slot.child.as_mut() {
                let _ = child.start_kill();
            }
        }
    }
}
