-- Quotas per device (`limits::Quota`): the UTC day counted, the events taken that day, and the
-- bytes of payload the device's stored events occupy (counted from what is already stored).
ALTER TABLE devices ADD COLUMN quota_day BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN events_today BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN bytes_stored BIGINT NOT NULL DEFAULT 0;
UPDATE devices SET bytes_stored = (SELECT coalesce(sum(length(payload)), 0) FROM events WHERE events.device_id = devices.id);
