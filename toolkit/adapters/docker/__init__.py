"""The Docker engine through docker-py: reaching it, images, starting and stopping the Ollama container,
reading it back, its errors in toolkit.errors terms, the per-container lock, and its request slots."""
