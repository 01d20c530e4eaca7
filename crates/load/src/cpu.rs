//! CPU accounting from `/proc`, without libc: who spent the machine's cores
//! during a run. The mesh and the load generator share this process, so
//! they are told apart by thread name (the load generator's threads start
//! with [`CLIENT_THREAD_PREFIX`]). PostgreSQL backends are processes named
//! `postgres`; ours are those whose title names one of our databases (a
//! backend's title is `postgres: user database host(port) state`). Backends
//! come and go (pgbench's exit when it ends), so a sampler thread reads them
//! every [`SAMPLE_INTERVAL`]. `/proc/stat` gives the whole machine, so CPU
//! used by anything else (other builds and tests on a shared machine) shows.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Prefix of the load generator's thread names (the kernel keeps 15 bytes).
pub const CLIENT_THREAD_PREFIX: &str = "load-";
/// Name of the load generator's runtime threads.
pub const CLIENT_THREAD_NAME: &str = "load-rt";
/// Name of the mesh's runtime threads.
pub const SERVER_THREAD_NAME: &str = "mesh-rt";
/// How often PostgreSQL's processes are read.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(200);
/// Clock ticks per second of `/proc` times (`USER_HZ`: 100 on every Linux
/// architecture we run on; `getconf CLK_TCK`).
const TICKS_PER_SEC: f64 = 100.0;

/// `(comm, utime + stime, cutime + cstime)` of one `/proc/.../stat` line.
fn parse_stat(text: &str) -> Option<(String, u64, u64)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_owned();
    // Fields after the command: state is field 3, utime 14, stime 15,
    // cutime 16, cstime 17 (proc(5)); index 0 here is field 3.
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    let field = |n: usize| rest.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some((comm, field(14)? + field(15)?, field(16)? + field(17)?))
}

fn read_stat(path: &str) -> Option<(String, u64, u64)> {
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

/// Busy and total jiffies of the whole machine (first line of `/proc/stat`).
fn machine_ticks() -> (u64, u64) {
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return (0, 0);
    };
    let values: Vec<u64> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is inside user).
    let get = |i: usize| values.get(i).copied().unwrap_or(0);
    let idle = get(3) + get(4);
    let busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
    (busy, busy + idle)
}

/// Cores of this machine.
pub fn cores() -> f64 {
    std::thread::available_parallelism().map_or(2.0, |n| n.get() as f64)
}

/// CPU ticks of this process's load-generator threads.
fn client_ticks() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| read_stat(&format!("{}/stat", task.path().display())))
        .filter(|(comm, _, _)| comm.starts_with(CLIENT_THREAD_PREFIX))
        .map(|(_, ticks, _)| ticks)
        .sum()
}

/// One PostgreSQL process as the sampler last saw it.
#[derive(Debug, Clone, Copy)]
struct Backend {
    baseline: u64,
    last: u64,
    ours: bool,
}

/// Reads every `postgres` process into `seen`; new ones start from
/// `baseline` ticks when `initial` (already running when metering began),
/// else from zero (all their CPU falls in the interval).
fn sample_postgres(seen: &mut HashMap<u32, Backend>, tags: &[String], initial: bool) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Some((comm, ticks, _)) = read_stat(&format!("/proc/{pid}/stat")) else {
            continue;
        };
        if comm != "postgres" {
            continue;
        }
        if let Some(backend) = seen.get_mut(&pid) {
            backend.last = backend.last.max(ticks);
            continue;
        }
        let title = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let title = String::from_utf8_lossy(&title);
        let ours = tags.iter().any(|tag| title.contains(tag.as_str()));
        let baseline = if initial { ticks } else { 0 };
        seen.insert(
            pid,
            Backend {
                baseline,
                last: ticks,
                ours,
            },
        );
    }
}

/// Meters CPU from [`Meter::start`] to [`Meter::finish`].
#[derive(Debug)]
pub struct Meter {
    started: Instant,
    process: u64,
    children: u64,
    client: u64,
    machine: (u64, u64),
    stop: Arc<AtomicBool>,
    sampler: Option<JoinHandle<HashMap<u32, Backend>>>,
}

impl Meter {
    /// Starts metering; PostgreSQL backends whose title contains one of
    /// `tags` (database names or their prefix) count as ours.
    pub fn start(tags: Vec<String>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let mut seen = HashMap::new();
        sample_postgres(&mut seen, &tags, true);
        let sampler = std::thread::Builder::new()
            .name(format!("{CLIENT_THREAD_PREFIX}meter"))
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    #[allow(
                        clippy::disallowed_methods,
                        reason = "a dedicated sampler thread, not a runtime worker"
                    )]
                    std::thread::sleep(SAMPLE_INTERVAL);
                    sample_postgres(&mut seen, &tags, false);
                }
                sample_postgres(&mut seen, &tags, false);
                seen
            })
            .ok();
        let (process, children) = read_stat("/proc/self/stat").map_or((0, 0), |(_, own, children)| (own, children));
        Self {
            started: Instant::now(),
            process,
            children,
            client: client_ticks(),
            machine: machine_ticks(),
            stop,
            sampler,
        }
    }

    /// Stops metering and says who used what.
    pub fn finish(mut self) -> Usage {
        let wall = self.started.elapsed();
        let (process, children) = read_stat("/proc/self/stat").map_or((0, 0), |(_, own, children)| (own, children));
        let client = client_ticks();
        let machine = machine_ticks();
        self.stop.store(true, Ordering::Relaxed);
        let backends = self.sampler.take().and_then(|h| h.join().ok()).unwrap_or_default();
        let secs = |ticks: u64| ticks as f64 / TICKS_PER_SEC;
        let postgres = |ours: bool| {
            secs(
                backends
                    .values()
                    .filter(|b| b.ours == ours)
                    .map(|b| b.last.saturating_sub(b.baseline))
                    .sum(),
            )
        };
        let client = client.saturating_sub(self.client);
        let process = process.saturating_sub(self.process);
        let busy = machine.0.saturating_sub(self.machine.0);
        let total = machine.1.saturating_sub(self.machine.1);
        // /proc/stat counts every core; scale its busy share to CPU-seconds of this interval.
        let machine_busy_secs = if total == 0 {
            0.0
        } else {
            busy as f64 / total as f64 * cores() * wall.as_secs_f64()
        };
        Usage {
            wall,
            client_secs: secs(client),
            server_secs: secs(process.saturating_sub(client)),
            children_secs: secs(children.saturating_sub(self.children)),
            postgres_secs: postgres(true),
            postgres_other_secs: postgres(false),
            machine_busy_secs,
        }
    }
}

/// CPU used over an interval, in CPU-seconds.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// Length of the interval.
    pub wall: Duration,
    /// The load generator's threads.
    pub client_secs: f64,
    /// The rest of this process: the five services.
    pub server_secs: f64,
    /// Child processes reaped in the interval (pgbench).
    pub children_secs: f64,
    /// PostgreSQL backends of our databases.
    pub postgres_secs: f64,
    /// Other PostgreSQL processes (WAL writer, checkpointer, other databases).
    pub postgres_other_secs: f64,
    /// Busy CPU-seconds of the whole machine.
    pub machine_busy_secs: f64,
}

impl Usage {
    /// Adds `other`, an interval measured apart (a scenario measured in
    /// slices).
    pub fn add(&mut self, other: &Usage) {
        self.wall += other.wall;
        self.client_secs += other.client_secs;
        self.server_secs += other.server_secs;
        self.children_secs += other.children_secs;
        self.postgres_secs += other.postgres_secs;
        self.postgres_other_secs += other.postgres_other_secs;
        self.machine_busy_secs += other.machine_busy_secs;
    }

    /// CPU-seconds per wall second (1.0 = one core busy).
    pub fn cores(&self, cpu_secs: f64) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall > 0.0 { cpu_secs / wall } else { 0.0 }
    }

    /// CPU-seconds of everything else on the machine: not this process, not
    /// pgbench, not PostgreSQL (other builds and tests on a shared machine).
    pub fn foreign_secs(&self) -> f64 {
        (self.machine_busy_secs
            - self.client_secs
            - self.server_secs
            - self.children_secs
            - self.postgres_secs
            - self.postgres_other_secs)
            .max(0.0)
    }

    /// The load generator's share of the CPU this run used (load generator,
    /// mesh or pgbench, and our PostgreSQL backends).
    pub fn client_share(&self) -> f64 {
        let total = self.client_secs + self.server_secs + self.children_secs + self.postgres_secs;
        if total > 0.0 { self.client_secs / total } else { 0.0 }
    }
}

/// Waits until the machine has been nearly idle (at most `busy_cores_max`
/// busy) for one second, or until `patience` is over. Returns the busy
/// cores of the last second.
pub async fn wait_for_quiet(patience: Duration, busy_cores_max: f64) -> f64 {
    let started = Instant::now();
    loop {
        let before = machine_ticks();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = machine_ticks();
        let total = after.1.saturating_sub(before.1);
        let busy = if total == 0 {
            0.0
        } else {
            after.0.saturating_sub(before.0) as f64 / total as f64 * cores()
        };
        if busy <= busy_cores_max || started.elapsed() >= patience {
            return busy;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_with_spaces_in_the_name() {
        let line = "42 (load rt) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 1 1 1";
        assert_eq!(parse_stat(line), Some(("load rt".to_owned(), 10, 3)));
    }

    #[test]
    fn meters_this_process() {
        let meter = Meter::start(vec!["no_such_database".to_owned()]);
        let usage = meter.finish();
        assert!(usage.client_secs >= 0.0);
        assert_eq!(usage.postgres_secs, 0.0);
        assert!(usage.machine_busy_secs >= 0.0);
    }
}
