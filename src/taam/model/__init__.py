"""The model: a Hugging Face causal LM, the Lightning module that trains it, the chunked loss."""
