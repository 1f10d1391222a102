"""One router per resource: health, threads, runs."""
