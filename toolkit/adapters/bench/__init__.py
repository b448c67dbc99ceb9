"""Running a benchmark against a server and keeping what it found: the runner, its live progress, the
history database and this machine's calibration file."""
