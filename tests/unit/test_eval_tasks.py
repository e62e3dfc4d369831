"""The diagnostic suite's task generator and scoring (``evaluation.diagnostic``)."""

from __future__ import annotations

from companion.core.answer.pipeline import run
from evaluation import diagnostic, metrics
from tests.unit._personal import deps


def test_metrics() -> None:
    assert metrics.token_f1("Porto", "Porto") == 1.0
    assert metrics.token_f1("Lyon", "Porto") == 0.0
    assert round(metrics.token_f1("Porto Portugal", "Porto"), 3) == 0.667
    assert metrics.contains("You were baking bread.", "baking bread", every_word=True)
    # The diagnostic suite wants every word; the personal suite's judge only the content words.
    assert not metrics.contains("You were painting a fence.", "painting the fence", every_word=True)
    assert metrics.contains("You were painting a fence.", "painting the fence")


def test_generated_history_scores_perfectly_with_records_and_zero_when_wrong(tmp_path) -> None:
    d = deps(tmp_path)
    history = diagnostic.generate_history(["Anna", "Marco"], seed=3)
    for name in history.gold:
        d.store.concepts.add(name, "person")
    conversation = d.store.conversations.start("gen")
    from datetime import datetime

    from companion.core.memory.learn import learn

    turns = [d.store.conversations.add_turn(conversation.id, t["role"], t["text"], datetime.fromisoformat(t["time"]))
             for t in history.turns]
    learn(d, turns, typed_now=True)   # the user said these in the chat
    # Text questions name the person (no photo here); the photo path is covered by the CLI tests.
    scores = diagnostic.run_diagnostic(lambda q, image: run(d, q.replace("the one in this photo", image),
                                                            temporary=True),
                                       history.gold, {n: n for n in history.gold})
    assert scores.lsd_f1 == 1.0 and scores.lar_accuracy == 1.0
    assert scores.itr_keyword_rate == 0.0   # reminders fire only for people *in a photo*
    wrong = diagnostic.score([(g, run(d, "Where did I last see Nobody?", temporary=True),) * 1 +
                              (run(d, "x", temporary=True),) * 2 for g in history.gold.values()])
    assert wrong.lsd_f1 == 0.0 and wrong.lar_accuracy == 0.0
