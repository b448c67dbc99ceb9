"""A benchmark in pure terms: what it sends, its schedule and ETA, the metrics of a request, the
concurrency sweep, the predictions it is compared with, a stored run, and what the result means."""
