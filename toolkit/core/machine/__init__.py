"""What a machine is: the hardware data types, parsers of what each OS reports (CPU, cgroups, Docker
engine), what-if hardware profiles, platform classes, the bandwidth probe's sizing, warnings, and how to
get a Docker engine on each OS."""
