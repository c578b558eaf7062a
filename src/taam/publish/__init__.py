"""What leaves a run: Hugging Face exports, their check, model cards and the Hub upload."""
