"""Data flow up to the model: sources → budget → tokenizer → shards → sampler."""
