"""What a machine is: the hardware data types, parsers of what each OS reports (CPU, cgroups, Docker
engine, GPUs), what-if hardware profiles, platform classes, the bandwidth probe's sizing, and how to get a
Docker engine on each OS."""
