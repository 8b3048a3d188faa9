"""Security monitoring: what operators watch (failed sign-ins, lockouts, rate limits, exchange
refusals, the hash chains of the logs), alert thresholds, and the metrics behind them."""
