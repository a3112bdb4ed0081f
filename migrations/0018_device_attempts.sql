-- A device's recent attempts, for its page (newest first): only attempts
-- placed on a device are indexed.
CREATE INDEX attempts_by_device ON attempts (device_id, started_at DESC) WHERE device_id IS NOT NULL;
