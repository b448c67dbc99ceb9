"""The share gateway's I/O: the key file on disk and the nginx container on the Docker engine."""
