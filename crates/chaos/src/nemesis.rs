//! The fault injector. A schedule has two lanes that run side by side (so
//! faults overlap): processes (SIGKILL and restart Transfer, Account, the
//! gateway or, in long runs, Analytics; SIGSTOP/SIGCONT) and infrastructure (PostgreSQL immediate
//! restart, Redis stop and start with its data lost, Transfer slowed
//! through its proxy). Within a lane, faults follow each other.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use crate::mesh::Mesh;

/// One fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL the process, start it again after the hold.
    Kill(&'static str),
    /// SIGSTOP the process, SIGCONT after the hold.
    Pause(&'static str),
    /// PostgreSQL stopped as `pg_ctl stop -m immediate` does, started after the hold.
    RestartPostgres,
    /// Redis killed (no persistence: everything lost), started after the hold.
    RestartRedis,
    /// Every chunk to and from Transfer waits this long, for the hold.
    Delay(Duration),
}

impl Fault {
    /// Its row in the faults table.
    pub fn label(self) -> String {
        match self {
            Self::Kill(name) => format!("SIGKILL + restart {name}"),
            Self::Pause(name) => format!("SIGSTOP/SIGCONT {name}"),
            Self::RestartPostgres => "PostgreSQL immediate stop + start".to_owned(),
            Self::RestartRedis => "Redis stop + start (data lost)".to_owned(),
            Self::Delay(_) => "Transfer delayed (proxy)".to_owned(),
        }
    }
}

/// A fault at a time, held for a while.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// Since the workload started.
    pub at: Duration,
    /// What.
    pub fault: Fault,
    /// How long before it is undone.
    pub hold: Duration,
}

/// The two lanes.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    /// Processes.
    pub processes: Vec<Step>,
    /// PostgreSQL, Redis, delays.
    pub infra: Vec<Step>,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

impl Schedule {
    /// A fixed schedule for a short run of `duration`: every kind of fault
    /// at least once, Transfer killed twice.
    pub fn short(duration: Duration) -> Self {
        let d = duration.as_secs_f64();
        let step = |fraction: f64, fault, hold: f64| Step {
            at: secs(d * fraction),
            fault,
            hold: secs(hold),
        };
        Self {
            processes: vec![
                step(0.10, Fault::Kill("transfer"), 1.5),
                step(0.32, Fault::Kill("account"), 1.0),
                step(0.52, Fault::Kill("gateway"), 1.0),
                step(0.68, Fault::Pause("account"), 2.5),
                step(0.82, Fault::Kill("transfer"), 0.5),
            ],
            infra: vec![
                step(0.18, Fault::RestartRedis, 4.0),
                step(0.42, Fault::RestartPostgres, 2.0),
                step(0.62, Fault::Delay(Duration::from_millis(300)), 5.0),
                step(0.90, Fault::RestartRedis, 1.0),
            ],
        }
    }

    /// A random schedule (from `seed`) for a long run of `duration`.
    pub fn random(duration: Duration, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let end = duration.as_secs_f64() - 5.0;
        let mut processes = Vec::new();
        let mut t = 5.0;
        loop {
            let fault = match rng.random_range(0..10) {
                0..=2 => Fault::Kill("transfer"),
                3..=4 => Fault::Kill("account"),
                5..=6 => Fault::Kill("gateway"),
                // The consumer dies between its commit and its acknowledgement.
                7 => Fault::Kill("analytics"),
                8 => Fault::Pause("account"),
                _ => Fault::Pause("transfer"),
            };
            let hold = rng.random_range(0.3..4.0);
            if t + hold > end {
                break;
            }
            processes.push(Step {
                at: secs(t),
                fault,
                hold: secs(hold),
            });
            t += hold + rng.random_range(4.0..14.0);
        }
        let mut infra = Vec::new();
        let mut t = 8.0;
        loop {
            let (fault, hold) = match rng.random_range(0..3) {
                0 => (Fault::RestartPostgres, rng.random_range(0.5..6.0)),
                1 => (Fault::RestartRedis, rng.random_range(0.5..8.0)),
                _ => (
                    Fault::Delay(Duration::from_millis(rng.random_range(100..800))),
                    rng.random_range(2.0..10.0),
                ),
            };
            if t + hold > end {
                break;
            }
            infra.push(Step {
                at: secs(t),
                fault,
                hold: secs(hold),
            });
            t += hold + rng.random_range(6.0..18.0);
        }
        Self { processes, infra }
    }

    /// Every step.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.processes.iter().chain(&self.infra)
    }
}

/// What the injector did.
#[derive(Debug, Default)]
pub struct FaultLog {
    /// Faults injected, by label.
    pub counts: BTreeMap<String, u32>,
    /// Faults that could not be injected or undone.
    pub errors: Vec<String>,
}

async fn inject(mesh: &Mesh, step: Step) -> anyhow::Result<()> {
    let supervisor = &mesh.supervisor;
    match step.fault {
        Fault::Kill(name) => {
            supervisor.stop(name, "KILL").await?;
            tokio::time::sleep(step.hold).await;
            supervisor.start(name)?;
        }
        Fault::Pause(name) => {
            supervisor.pause(name, true).await?;
            tokio::time::sleep(step.hold).await;
            supervisor.pause(name, false).await?;
        }
        Fault::RestartPostgres => {
            supervisor.stop("postgres", "QUIT").await?;
            tokio::time::sleep(step.hold).await;
            supervisor.start("postgres")?;
        }
        Fault::RestartRedis => {
            supervisor.stop("redis", "KILL").await?;
            tokio::time::sleep(step.hold).await;
            supervisor.start("redis")?;
        }
        Fault::Delay(delay) => {
            mesh.proxy.set_delay(delay);
            tokio::time::sleep(step.hold).await;
            mesh.proxy.set_delay(Duration::ZERO);
        }
    }
    Ok(())
}

async fn lane(mesh: Arc<Mesh>, steps: Vec<Step>, started: Instant, log: Arc<Mutex<FaultLog>>) {
    for step in steps {
        tokio::time::sleep_until((started + step.at).into()).await;
        eprintln!(
            "bank-chaos: +{:5.1}s {} (for {:.1}s)",
            started.elapsed().as_secs_f64(),
            step.fault.label(),
            step.hold.as_secs_f64()
        );
        let result = inject(&mesh, step).await;
        let mut log = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match result {
            Ok(()) => *log.counts.entry(step.fault.label()).or_default() += 1,
            Err(error) => log.errors.push(format!("{}: {error:#}", step.fault.label())),
        }
    }
}

/// Runs `schedule` from `started`; returns when both lanes are done.
/// Dropping the future aborts both lanes.
pub async fn run(mesh: Arc<Mesh>, schedule: Schedule, started: Instant, log: Arc<Mutex<FaultLog>>) {
    let mut lanes = tokio::task::JoinSet::new();
    lanes.spawn(lane(mesh.clone(), schedule.processes, started, log.clone()));
    lanes.spawn(lane(mesh, schedule.infra, started, log));
    while lanes.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_schedule_has_every_required_fault_within_the_run() {
        let duration = Duration::from_secs(60);
        let schedule = Schedule::short(duration);
        let faults: Vec<Fault> = schedule.steps().map(|s| s.fault).collect();
        assert!(faults.contains(&Fault::Kill("transfer")));
        assert!(faults.contains(&Fault::RestartRedis));
        assert!(faults.contains(&Fault::RestartPostgres));
        for step in schedule.steps() {
            assert!(step.at + step.hold < duration, "{step:?} ends after the run");
        }
    }

    #[test]
    fn random_lanes_do_not_overlap_themselves_and_end_in_time() {
        let duration = Duration::from_secs(300);
        for seed in 0..20 {
            let schedule = Schedule::random(duration, seed);
            assert!(!schedule.processes.is_empty() && !schedule.infra.is_empty());
            for lane in [&schedule.processes, &schedule.infra] {
                for pair in lane.windows(2) {
                    assert!(pair[0].at + pair[0].hold < pair[1].at);
                }
                for step in lane {
                    assert!(step.at + step.hold < duration);
                }
            }
        }
    }
}
