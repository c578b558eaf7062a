"""What a run shows while it trains: console, progress bar, metrics.csv and W&B."""
