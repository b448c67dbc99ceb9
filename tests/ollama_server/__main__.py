"""`python -m tests.ollama_server serve|list|pull|ps` (the image's `ollama` runs this)."""

import sys

from .cli import main

sys.exit(main())
