"""Copying models without a registry (``gpuless models``): Ollama's store layout, its manifests, the
checks an archive must pass, and the plan of what an import copies. Pure logic over bytes and names."""
