"""The LoCoMo suite's harness on a tiny conversation written here in LoCoMo's own format (no shared data)."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation import locomo_data, locomo_metrics
from evaluation.run_locomo import run_conversation, summarize

SAMPLE = {
    "sample_id": "tiny",
    "conversation": {
        "speaker_a": "Rosa", "speaker_b": "Tomas",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Rosa", "dia_id": "D1:1", "text": "Hey Tomas! Good to see you!"},
            {"speaker": "Tomas", "dia_id": "D1:2", "text": "Hi Rosa! I adopted a grey kitten called Pebble yesterday."},
            {"speaker": "Rosa", "dia_id": "D1:3", "text": "Lovely! I started learning the cello last week.",
             "img_url": ["x.jpg"], "blip_caption": "a photo of a cello leaning on a chair"},
        ],
        "session_2_date_time": "10:00 am on 2 June, 2023",
        "session_2": [
            {"speaker": "Tomas", "dia_id": "D2:1", "text": "Pebble knocked my coffee over this morning, haha."},
            {"speaker": "Rosa", "dia_id": "D2:2", "text": "My cello teacher says I should practise scales daily."},
        ],
        "session_3_date_time": "9:00 am on 1 July, 2023",   # a date without turns, as in the release
    },
    "qa": [
        {"question": "When did Tomas adopt a kitten?", "answer": "7 May 2023", "evidence": ["D1:2"], "category": 2},
        {"question": "What instrument does Rosa play?", "answer": "cello", "evidence": ["D1:3; D2:2"],
         "category": 4},
        {"question": "What is the kitten called?", "answer": "Pebble", "evidence": ["D:1:2"], "category": 1},
        {"question": "What did Rosa adopt?", "evidence": ["D1:2"], "category": 5,
         "adversarial_answer": "a kitten"},
    ],
}


def test_reads_locomo_and_repairs_malformed_evidence(tmp_path: Path) -> None:
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps([SAMPLE]), encoding="utf-8")
    [conversation] = locomo_data.load(path)
    assert conversation.speakers == ("Rosa", "Tomas") and len(conversation.turns) == 5
    assert conversation.turns[0].time.isoformat() == "2023-05-08T13:56:00+00:00"
    assert conversation.turns[1].time.isoformat() == "2023-05-08T13:57:00+00:00"
    assert [q.evidence for q in conversation.questions] == [("D1:2",), ("D1:3", "D2:2"), ("D1:2",), ("D1:2",)]
    assert conversation.questions[3].answer == ""      # adversarial: the answer is not in the conversation
    prefixed = locomo_data.turn_text(conversation.turns[2], prefix=True)
    assert prefixed == ("Rosa: Lovely! I started learning the cello last week. "
                        "[Rosa shared a photo: a photo of a cello leaning on a chair]")


def test_locomo_answer_f1_and_the_shown_rule() -> None:
    assert round(locomo_metrics.f1_score("On 7 May, 2023.", "7 May 2023"), 3) == 0.857
    assert locomo_metrics.f1_score("the kittens", "kitten") == 1.0          # articles out, Porter stems
    assert locomo_metrics.answer_f1("Pebble, a cello", "cello, Pebble", 1) == 1.0   # multi-hop: per part
    turn = locomo_metrics.content_words("I adopted a grey kitten called Pebble yesterday.")
    # Half of the turn's content words on one line count; the same words spread over two lines do not.
    assert locomo_metrics.shown(turn, locomo_metrics.lines_words("8 May: adopted a grey kitten"))
    assert not locomo_metrics.shown(turn, locomo_metrics.lines_words("adopted\ngrey kitten\ncalled Pebble"))
    assert locomo_metrics.abstains("I don't know that about Rosa.")


def test_the_harness_imports_asks_and_scores_every_system(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(SAMPLE), encoding="utf-8")     # one flat sample, as in the shared folder
    [conversation] = locomo_data.load(path)
    rows, setup = run_conversation(conversation, tmp_path / "profiles", lambda text: len(text.split()),
                                   minilm=None, ks=[1], speaker_field=True)
    summary = summarize(rows)
    assert set(summary) == {"companion", "bm25@1", "full_history", "memory_search@1"}
    for system in summary.values():
        assert set(system["f1_by_category"]) == {"multi_hop", "temporal", "open_domain", "single_hop"}
        assert {"evidence_recall", "gold_word_coverage", "block_tokens", "abstention", "abstention_on_answerable",
                "p95_ms"} <= set(system)
    assert summary["full_history"]["evidence_recall"] == 1.0
    assert summary["full_history"]["block_tokens"] == sum(len(locomo_data.turn_text(t, prefix=True).split()) + 4
                                                          for t in conversation.turns)
    # BM25@1 finds the kitten turn for the kitten question and shows only that line.
    kitten = next(r for r in rows if r["system"] == "bm25@1" and r["category"] == 2)
    assert kitten["recall"] == 1.0
    assert sum(1 for r in rows if r["system"] == "companion") == 4 and setup["import_s"] >= 0
