"""One run's lifecycle: claim the directory, its identity and status, train, checkpoint, pre-emption, sweeps."""
