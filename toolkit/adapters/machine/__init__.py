"""Looking at the real machine: the OS probes, the memory-bandwidth probe and the GPUs the OS lists."""
