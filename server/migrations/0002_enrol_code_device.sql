-- A code made by `replace-device` enrols only the device it names (NULL: a new device).
ALTER TABLE enrol_codes ADD COLUMN device_id TEXT;
