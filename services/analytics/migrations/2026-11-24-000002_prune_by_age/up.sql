-- Payload pruning looks for the oldest kept payloads by consumption time;
-- an index in that order lets a round that finds nothing stop at once
-- instead of walking every kept payload.
DROP INDEX analytics.events_payload_kept_idx;
CREATE INDEX events_payload_age_idx ON analytics.events (consumed_at) WHERE payload IS NOT NULL;
