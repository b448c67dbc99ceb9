"""Talking to an Ollama server: the HTTP seam with its guards, the streaming client, the admin calls a
start needs, their errors, which server to talk to, and a native (Docker-free) Ollama."""
