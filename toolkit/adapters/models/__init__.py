"""Model copies on this machine: archives and folders on disk, and the models volume through the Docker
SDK (a short-lived helper container)."""
