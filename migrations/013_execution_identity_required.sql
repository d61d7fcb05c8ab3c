-- 013: every execution has its exchange symbol and its client order id (the webhook always set both; rows
-- written by hand or by old test data did not, and readers had to guess). Backfilled the way the webhook derives
-- them, then required, so no reader needs a fallback.
UPDATE executions SET exchange_symbol = symbol WHERE exchange_symbol IS NULL;
UPDATE executions SET client_order_id = 'sb' || left(replace(id::text, '-', ''), 30) WHERE client_order_id IS NULL;
ALTER TABLE executions
    ALTER COLUMN exchange_symbol SET NOT NULL,
    ALTER COLUMN client_order_id SET NOT NULL;
