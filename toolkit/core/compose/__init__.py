"""The Ollama service as a file and a container: the spec, its compose.yaml text, reading a file back,
editing it in place, docker-py arguments, what took effect (verify), and what an app needs to connect."""
