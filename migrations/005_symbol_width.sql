-- 005: symbols follow the signal contract `^[A-Z]{3,10}/[A-Z]{3,10}$`, up to 21 characters; 001 (from the
-- seed) allowed 20, so a valid 10/10 symbol failed at insert time.
ALTER TABLE trading_configs ALTER COLUMN symbol TYPE VARCHAR(21);
ALTER TABLE signals ALTER COLUMN symbol TYPE VARCHAR(21);
