"""fitbit-subscriber: keeps a copy of Fitbit data current by push."""
