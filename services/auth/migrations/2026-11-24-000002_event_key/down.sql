DROP TABLE auth.event_key;
