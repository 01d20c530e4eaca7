//! The transactional outbox. A service appends its domain events
//! (`bank.events.v1.Event`) to its own `<schema>.outbox` table inside the
//! transaction that makes the change, so an event exists exactly when the
//! change does. A [`Relay`] publishes the outbox, in sequence order, to the
//! Redis stream `<prefix>:events:<producer>` and marks what it published.
//!
//! Guarantees: nothing is lost (rows stay until published; a crash between
//! publishing and marking republishes, and stream entry ids are the outbox
//! sequence, so a republished entry is recognised and skipped; a row whose
//! transaction committed after a higher sequence was published is appended
//! after it as `<top>-<n>`); order is kept per producer (one relay at a
//! time, under a PostgreSQL advisory lock; sequence order, except for such
//! late commits); Redis being down only delays publication, it never fails the
//! change (the relay is a background task, off the request path). When
//! Redis loses its data (it keeps nothing on disk here), the relay notices
//! the missing stream and publishes the retained window again; consumers
//! deduplicate by `event_id`.

use std::time::Duration;

use bank_db::Pool;
use bank_proto::bank::events::v1::{Event, EventType, event::Payload};
use bank_server::BackgroundTask;
use chrono::Utc;
use diesel::sql_types::{Array, BigInt, Binary, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use prost::Message as _;
use redis::aio::ConnectionManager;

/// Events fetched and published per relay round.
pub const RELAY_BATCH_MAX: i64 = 500;
/// Pause between relay rounds when the outbox is empty.
pub const RELAY_IDLE_POLL_MS: u64 = 100;
/// Pause after a failed round (Redis or the database down).
pub const RELAY_RETRY_MS: u64 = 1_000;
/// Published rows are kept this long, to republish after Redis data loss.
pub const RETENTION_HOURS: i64 = 24;
/// Approximate length at which streams are trimmed.
pub const STREAM_MAX_LEN: usize = 1_000_000;

/// The SQL that creates `<schema>.outbox`; a service runs it in one of its
/// migrations (copy it; migrations are immutable once released).
pub fn create_table_sql(schema: &str) -> String {
    format!(
        "CREATE TABLE {schema}.outbox (\n\
         \x20   sequence     bigserial   PRIMARY KEY,\n\
         \x20   event_id     uuid        NOT NULL UNIQUE,\n\
         \x20   event_type   text        NOT NULL,\n\
         \x20   payload      bytea       NOT NULL,\n\
         \x20   created_at   timestamptz NOT NULL DEFAULT now(),\n\
         \x20   published_at timestamptz\n\
         );\n\
         CREATE INDEX outbox_unpublished_idx ON {schema}.outbox (sequence) WHERE published_at IS NULL;\n"
    )
}

/// A new event of `producer` about `aggregate_type`/`aggregate_id`, with
/// a fresh UUIDv7 id and the current time. `actor` is the user who caused
/// it, if any; the trace id is the current span's (empty when tracing is
/// off).
pub fn event(
    producer: &str,
    kind: EventType,
    aggregate_type: &str,
    aggregate_id: impl ToString,
    actor: Option<uuid::Uuid>,
    payload: Payload,
) -> Event {
    let now = Utc::now();
    Event {
        event_id: uuid::Uuid::now_v7().to_string(),
        r#type: kind as i32,
        occur_time: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap_or(0),
        }),
        producer: producer.to_owned(),
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: aggregate_id.to_string(),
        sequence: 0,
        trace_id: bank_telemetry::current_trace_id(),
        actor_user_id: actor.map(|a| a.to_string()).unwrap_or_default(),
        payload: Some(payload),
    }
}

/// The outbox of one service.
#[derive(Clone, Debug)]
pub struct Outbox {
    table: &'static str,
    producer: &'static str,
}

impl Outbox {
    /// The outbox in `<schema>.outbox` of `producer` (`schema` and
    /// `producer` are the service's name).
    pub const fn new(table: &'static str, producer: &'static str) -> Self {
        Self { table, producer }
    }

    /// The producer name.
    pub fn producer(&self) -> &'static str {
        self.producer
    }

    /// Appends `events` on `conn`, which must be inside the transaction of
    /// the change they describe. One statement for any number of events,
    /// prepared once per connection and shape (one row, or arrays); it
    /// takes a shared reference so that it can be pipelined with the
    /// change's other statements.
    pub async fn append(&self, conn: &AsyncPgConnection, events: &[Event]) -> diesel::QueryResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let ids: Vec<uuid::Uuid> = events
            .iter()
            .map(|e| uuid::Uuid::parse_str(&e.event_id).unwrap_or_else(|_| uuid::Uuid::now_v7()))
            .collect();
        let types: Vec<String> = events
            .iter()
            .map(|e| {
                EventType::try_from(e.r#type)
                    .map(|t| t.as_str_name().to_owned())
                    .unwrap_or_default()
            })
            .collect();
        let payloads: Vec<Vec<u8>> = events.iter().map(prost::Message::encode_to_vec).collect();
        Append {
            table: self.table,
            ids,
            types,
            payloads,
        }
        .execute(&mut &*conn)
        .await?;
        Ok(())
    }

    /// The Redis stream the relay publishes to.
    pub fn stream_key(&self, redis_prefix: &str) -> String {
        format!("{redis_prefix}:events:{}", self.producer)
    }

    /// Starts the relay of this outbox; it stops when the task is dropped.
    pub fn spawn_relay(&self, pool: Pool, redis: ConnectionManager, redis_prefix: &str) -> BackgroundTask {
        let relay = Relay {
            outbox: self.clone(),
            pool,
            redis,
            stream: self.stream_key(redis_prefix),
            rounds: 0,
        };
        BackgroundTask::new(tokio::spawn(relay.run()))
    }
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    sequence: i64,
    #[diesel(sql_type = Binary)]
    payload: Vec<u8>,
    #[diesel(sql_type = diesel::sql_types::Double)]
    age_secs: f64,
}

/// Age in seconds of the oldest unpublished event, by producer.
pub const OUTBOX_LAG: &str = "bank_outbox_lag_seconds";
/// Unpublished events seen by the last relay round (at most a batch).
pub const OUTBOX_BACKLOG: &str = "bank_outbox_backlog";

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

struct Relay {
    outbox: Outbox,
    pool: Pool,
    redis: ConnectionManager,
    stream: String,
    rounds: u64,
}

/// Rounds between deletions of rows published longer ago than twice the
/// retention (about a minute when idle).
const CLEANUP_EVERY_ROUNDS: u64 = 600;

/// Outcome of one round.
enum Round {
    /// Published this many.
    Published(usize),
    /// Another replica holds the relay lock.
    NotLeader,
}

fn lock_key(table: &str) -> i64 {
    // A stable per-table key (FNV-1a), distinct from the migration lock.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in table.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// A failed round: the database or Redis.
#[derive(Debug)]
enum RoundError {
    Db(diesel::result::Error),
    Other(String),
}

impl From<diesel::result::Error> for RoundError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Db(error)
    }
}

impl std::fmt::Display for RoundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Db(e) => write!(f, "database: {e}"),
            Self::Other(e) => f.write_str(e),
        }
    }
}

impl Relay {
    async fn run(mut self) {
        let mut failing = false;
        loop {
            match self.round().await {
                Ok(Round::Published(n)) => {
                    if failing {
                        tracing::info!(producer = self.outbox.producer, "event relay recovered");
                        failing = false;
                    }
                    if n < usize::try_from(RELAY_BATCH_MAX).unwrap_or(usize::MAX) {
                        tokio::time::sleep(Duration::from_millis(RELAY_IDLE_POLL_MS)).await;
                    }
                }
                Ok(Round::NotLeader) => tokio::time::sleep(Duration::from_millis(RELAY_IDLE_POLL_MS)).await,
                Err(error) => {
                    if matches!(error, RoundError::Other(_)) {
                        bank_server::metrics::redis_error(self.outbox.producer, "event_relay");
                    }
                    if !failing {
                        tracing::warn!(producer = self.outbox.producer, %error, "event relay failing; events wait in the outbox");
                        failing = true;
                    }
                    tokio::time::sleep(Duration::from_millis(RELAY_RETRY_MS)).await;
                }
            }
        }
    }

    /// One round in one transaction, under a transaction-scoped advisory
    /// lock: replicas take turns, each publishing the oldest unpublished
    /// rows, so order holds; no pooled connection is held between rounds.
    async fn round(&mut self) -> Result<Round, RoundError> {
        let mut conn = self.pool.get().await.map_err(|e| RoundError::Other(e.to_string()))?;
        self.rounds += 1;
        let cleanup = self.rounds.is_multiple_of(CLEANUP_EVERY_ROUNDS);
        let table = self.outbox.table;
        let stream = self.stream.clone();
        let mut redis = self.redis.clone();
        let producer = self.outbox.producer;
        conn.transaction::<_, RoundError, _>(async |conn| {
            let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                .bind::<BigInt, _>(lock_key(table))
                .get_result(conn)
                .await?;
            if !locked.locked {
                return Ok(Round::NotLeader);
            }
            heal_lost_stream(conn, &mut redis, &stream, table, producer).await?;
            if cleanup {
                diesel::sql_query(format!(
                    "DELETE FROM {table} WHERE published_at < now() - make_interval(hours => $1::int)"
                ))
                .bind::<diesel::sql_types::Integer, _>(i32::try_from(2 * RETENTION_HOURS).unwrap_or(48))
                .execute(conn)
                .await?;
            }
            let rows: Vec<Row> = diesel::sql_query(format!(
                "SELECT sequence, payload, extract(epoch FROM now() - created_at)::float8 AS age_secs \
                 FROM {table} WHERE published_at IS NULL ORDER BY sequence LIMIT $1"
            ))
            .bind::<BigInt, _>(RELAY_BATCH_MAX)
            .load(conn)
            .await?;
            let lag = rows.as_slice().first().map_or(0.0, |r| r.age_secs.max(0.0));
            metrics::gauge!(OUTBOX_LAG, "service" => producer).set(lag);
            #[allow(clippy::cast_precision_loss, reason = "a batch is at most 500 rows")]
            metrics::gauge!(OUTBOX_BACKLOG, "service" => producer).set(rows.len() as f64);
            if rows.is_empty() {
                return Ok(Round::Published(0));
            }
            // The stream's last entry id (its first part is a sequence).
            let last: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
                .arg(&stream)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut redis)
                .await
                .map_err(|e| RoundError::Other(e.to_string()))?;
            let top: (i64, u64) = last
                .ids
                .as_slice()
                .first()
                .and_then(|entry| entry.id.split_once('-'))
                .and_then(|(ms, seq)| Some((ms.parse().ok()?, seq.parse().ok()?)))
                .unwrap_or((0, 0));
            let (published_up_to, mut late) = top;
            let mut pipe = redis::pipe();
            let mut count = 0;
            for row in &rows {
                // A row at or below the stream's top was either published
                // before a crash kept it from being marked (then its entry
                // `<sequence>-0` exists: skip it), or its transaction took
                // its sequence before, but committed after, one already
                // published. The latter goes after the top, as
                // `<top>-<n>`: a stream only grows, and consumers
                // deduplicate by event id.
                let entry_id = if row.sequence > published_up_to {
                    format!("{}-0", row.sequence)
                } else {
                    let own = format!("{}-0", row.sequence);
                    let found: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                        .arg(&stream)
                        .arg(&own)
                        .arg(&own)
                        .query_async(&mut redis)
                        .await
                        .map_err(|e| RoundError::Other(e.to_string()))?;
                    if !found.ids.is_empty() {
                        continue;
                    }
                    late += 1;
                    format!("{published_up_to}-{late}")
                };
                let Ok(mut event) = Event::decode(row.payload.as_slice()) else {
                    tracing::error!(sequence = row.sequence, "undecodable outbox row skipped");
                    continue;
                };
                event.sequence = row.sequence;
                let kind = EventType::try_from(event.r#type)
                    .map(|t| t.as_str_name())
                    .unwrap_or("EVENT_TYPE_UNSPECIFIED");
                pipe.cmd("XADD")
                    .arg(&stream)
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(STREAM_MAX_LEN)
                    .arg(entry_id)
                    .arg("event_id")
                    .arg(&event.event_id)
                    .arg("type")
                    .arg(kind)
                    .arg("event")
                    .arg(event.encode_to_vec())
                    .ignore();
                count += 1;
            }
            if count > 0 {
                pipe.query_async::<()>(&mut redis)
                    .await
                    .map_err(|e| RoundError::Other(e.to_string()))?;
            }
            // Exactly the rows read: a row committed since (with a lower
            // sequence) has not been published yet.
            let read: Vec<i64> = rows.iter().map(|r| r.sequence).collect();
            diesel::sql_query(format!(
                "UPDATE {table} SET published_at = now() WHERE published_at IS NULL AND sequence = ANY($1)"
            ))
            .bind::<Array<BigInt>, _>(read)
            .execute(conn)
            .await?;
            Ok(Round::Published(rows.len()))
        })
        .await
    }
}

/// Redis keeps nothing on disk: after a restart the stream is gone while
/// our rows say published. Publish the retained window again.
async fn heal_lost_stream(
    conn: &mut AsyncPgConnection,
    redis: &mut ConnectionManager,
    stream: &str,
    table: &str,
    producer: &str,
) -> Result<(), RoundError> {
    let exists: bool = redis::cmd("EXISTS")
        .arg(stream)
        .query_async(redis)
        .await
        .map_err(|e| RoundError::Other(e.to_string()))?;
    if exists {
        return Ok(());
    }
    let reset = diesel::sql_query(format!(
        "UPDATE {table} SET published_at = NULL WHERE published_at IS NOT NULL \
         AND created_at > now() - make_interval(hours => $1::int)"
    ))
    .bind::<diesel::sql_types::Integer, _>(i32::try_from(RETENTION_HOURS).unwrap_or(24))
    .execute(conn)
    .await?;
    if reset > 0 {
        tracing::warn!(
            producer,
            events = reset,
            "event stream lost; republishing the retained window"
        );
    }
    Ok(())
}

/// `INSERT INTO <table> ...` of [`Outbox::append`]. Unlike `sql_query`,
/// which diesel never caches, this statement is prepared once per
/// connection: its text depends only on the table and on whether it
/// carries one row or arrays.
struct Append {
    table: &'static str,
    ids: Vec<uuid::Uuid>,
    types: Vec<String>,
    payloads: Vec<Vec<u8>>,
}

impl diesel::query_builder::QueryId for Append {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for Append {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("INSERT INTO ");
        out.push_sql(self.table);
        out.push_sql(" (event_id, event_type, payload) ");
        match (self.ids.as_slice(), self.types.as_slice(), self.payloads.as_slice()) {
            ([id], [kind], [payload]) => {
                out.push_sql("VALUES (");
                out.push_bind_param::<SqlUuid, _>(id)?;
                out.push_sql(", ");
                out.push_bind_param::<Text, _>(kind)?;
                out.push_sql(", ");
                out.push_bind_param::<Binary, _>(payload)?;
                out.push_sql(")");
            }
            _ => {
                out.push_sql("SELECT * FROM unnest(");
                out.push_bind_param::<Array<SqlUuid>, _>(&self.ids)?;
                out.push_sql("::uuid[], ");
                out.push_bind_param::<Array<Text>, _>(&self.types)?;
                out.push_sql("::text[], ");
                out.push_bind_param::<Array<Binary>, _>(&self.payloads)?;
                out.push_sql("::bytea[])");
            }
        }
        Ok(())
    }
}
