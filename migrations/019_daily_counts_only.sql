-- Today's trade count is now read from daily_trade_counts alone (the fan-out no longer counts today's executions
-- when a user has no row yet: 1,000 index probes on the first signal of each day). Every decision since
-- migration 010 reserves its row in the same transaction; executions from before that get theirs here.
INSERT INTO daily_trade_counts (user_id, day, trades, cap)
SELECT e.user_id, (now() AT TIME ZONE 'UTC')::date, count(DISTINCT e.signal_id),
       CASE WHEN u.subscription_tier = 'free' THEN LEAST(u.max_daily_trades, 5) ELSE u.max_daily_trades END
FROM executions e JOIN users u ON u.id = e.user_id
WHERE e.created_at >= date_trunc('day', now(), 'UTC')
GROUP BY e.user_id, u.subscription_tier, u.max_daily_trades
ON CONFLICT (user_id, day) DO NOTHING;
