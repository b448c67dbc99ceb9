"""`gpuless share`: keys for teammates and the nginx gateway in front of Ollama (pure logic, no I/O)."""
