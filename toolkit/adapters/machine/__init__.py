"""Looking at the real machine: the OS probes and the memory-bandwidth probe."""
