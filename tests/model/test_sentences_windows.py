from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer

from framelens.model.sentences import split_sentences
from framelens.model.windows import build_document


def test_sentences_keep_offsets_and_skip_abbreviations() -> None:
    text = 'Mr. Smith said "No." Then U.S. officials left.\n\nA new paragraph. Gen. J. Doe spoke!'
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        'Mr. Smith said "No."',
        "Then U.S. officials left.",
        "A new paragraph.",
        "Gen. J. Doe spoke!",
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_long_text_is_windowed_not_truncated(tiny_encoder: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_encoder))
    sentence = "Ceasefire talks resumed in geneva. "
    text = sentence * 40
    doc = build_document(text, tokenizer, budget=30, overlap_tokens=7)
    assert len(doc.windows) > 5
    covered = {i for w in doc.windows for i in w.sentence_ids}
    assert covered == set(range(len(doc.sentences))), "every sentence is read by some window"
    for w in doc.windows:
        n_tokens = len(tokenizer(doc.window_text(w), add_special_tokens=False)["input_ids"])
        assert n_tokens <= 30
    # consecutive windows overlap by one sentence (6 tokens <= 7)
    assert doc.windows[1].sentence_ids[0] == doc.windows[0].sentence_ids[-1]


def test_a_sentence_longer_than_the_budget_is_cut_into_pieces(tiny_encoder: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_encoder))
    text = "refugees crossed the border at night " * 20
    doc = build_document(text, tokenizer, budget=16, overlap_tokens=0)
    assert len(doc.windows) >= 7
    assert all(doc.text[s.start : s.end] == s.text for s in doc.sentences)


def test_paragraph_windows_read_one_paragraph_each_and_join_a_short_heading(tiny_encoder: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_encoder))
    paragraph = "Ceasefire talks resumed in geneva. " * 9  # 54 tokens: over the 48 a window needs to close
    text = "Refugees crossed.\n\n" + "\n\n".join([paragraph.strip()] * 3)
    packed = build_document(text, tokenizer, budget=200, overlap_tokens=7)
    assert len(packed.windows) == 1, "without paragraph windows, everything that fits shares one window"
    doc = build_document(text, tokenizer, budget=200, overlap_tokens=7, paragraphs=True)
    assert [len(w.sentence_ids) for w in doc.windows] == [10, 9, 9], "the heading joins the first paragraph"
    assert all("\n" not in doc.window_text(w) for w in doc.windows[1:]), "no window crosses a paragraph break"
    ids = [i for w in doc.windows for i in w.sentence_ids]
    assert ids == list(range(len(doc.sentences))), "no overlap across paragraphs, nothing skipped"
