"""What a benchmark sends: the two prompt shapes, the fixed document, and the messages of one request.

The workload is fixed text so that runs stay comparable from one day (and one machine) to the next;
only a nonce at the very start of each prompt changes, so the server's prompt cache cannot flatter
prefill speed or TTFT. Pure: the text is generated from a fixed seed.
"""

from __future__ import annotations

import random
from typing import Literal

Shape = Literal["chat", "document"]
#: Tokens the excluded warm-up request generates (a short chat prompt; it is not measured).
WARMUP_TOKENS = 8
SHAPES: tuple[Shape, ...] = ("chat", "document")


CHAT_QUESTION = (
    "Explain in a few short paragraphs how a lighthouse keeper kept the lamp burning through a storm."
)
DOCUMENT_TASK = "Summarise the following field report in five bullet points."

_WORDS = (
    "the river valley harbour station engineer report morning evening signal cable tower north south east "
    "west water stone bridge road market village council weather storm wind rain season harvest grain mill "
    "boat crew cargo light lamp keeper shift record ledger inspection repair pump valve pressure gauge level "
    "measure sample survey team leader route path field fence gate barn supply delivery schedule delay "
    "increase decrease steady careful quick slow heavy light early late before after during while because "
    "although therefore however meanwhile later again often rarely never always several many few most"
)


def document_text(words: int = 830, seed: int = 1234) -> str:
    """A deterministic plain-English document of ``words`` words (~1k tokens at 830 words for
    common tokenizers); the same text every run, so runs stay comparable."""
    rng = random.Random(seed)
    vocabulary = _WORDS.split()
    sentences: list[str] = []
    count = 0
    while count < words:
        length = rng.randint(8, 16)
        chosen = [rng.choice(vocabulary) for _ in range(length)]
        sentences.append(" ".join(chosen).capitalize() + ".")
        count += length
    paragraphs = [" ".join(sentences[i : i + 6]) for i in range(0, len(sentences), 6)]
    return "\n\n".join(paragraphs)


def build_messages(shape: Shape, nonce: str, document: str) -> list[dict[str, str]]:
    """The prompt of a shape, made unique by ``nonce`` in its first tokens (a system message comes
    first in every chat template, so the cacheable shared prefix is only the template's opening)."""
    system = f"Request {nonce}. You are a concise assistant."
    user = CHAT_QUESTION if shape == "chat" else f"{DOCUMENT_TASK}\n\n{document}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
