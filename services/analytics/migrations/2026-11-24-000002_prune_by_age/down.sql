DROP INDEX analytics.events_payload_age_idx;
CREATE INDEX events_payload_kept_idx ON analytics.events (position) WHERE payload IS NOT NULL;
