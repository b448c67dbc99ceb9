"""The benchmark's fixed workload: the same text every run, a nonce only at the start of each prompt."""

from __future__ import annotations

from toolkit.core.bench.workload import CHAT_QUESTION, DOCUMENT_TASK, build_messages, document_text


def test_the_document_is_the_same_every_run_and_about_the_length_asked() -> None:
    text = document_text()
    assert text == document_text()
    assert 830 <= len(text.split()) < 830 + 16  # whole sentences of 8-16 words
    assert 200 <= len(document_text(200).split()) < 200 + 16
    assert document_text(830, seed=1) != text


def test_only_the_nonce_changes_between_requests() -> None:
    document = document_text(100)
    one = build_messages("document", "n1", document)
    two = build_messages("document", "n2", document)
    assert [m["role"] for m in one] == ["system", "user"]
    assert one[1] == two[1] and one[1]["content"] == f"{DOCUMENT_TASK}\n\n{document}"
    assert one[0] != two[0] and one[0]["content"].startswith("Request n1.")
    assert build_messages("chat", "n1", document)[1]["content"] == CHAT_QUESTION
