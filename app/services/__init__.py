"""Domain services: the rules. Plain functions; they flush, the caller commits."""
