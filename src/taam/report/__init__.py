"""What people compare: run tables, paired statistics against a baseline, figures, the benchmark."""
