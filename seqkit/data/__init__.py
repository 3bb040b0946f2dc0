"""Reading raw data, finding it, and batching it."""
