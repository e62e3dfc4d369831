"""The progress shown while indexing: on a terminal only, per stage, wiped when done (tqdm draws it)."""

from __future__ import annotations

from companion.cli.progress import ProgressBar
from companion.core.types import Progress


def test_the_bar_shows_each_stage_and_wipes_itself(capsys) -> None:
    bar = ProgressBar(enabled=True)
    bar.show(Progress("scan", 0, None, "looking for photos"))
    bar.show(Progress("index", 0, 3, "a.jpg"))
    bar.close()
    err = capsys.readouterr().err
    assert "scan" in err and "index" in err and "0/3" in err and "photo" in err
    assert err.endswith("\r") and not err.rstrip("\r").endswith("\n")   # nothing left behind on the line


def test_no_bar_when_disabled(capsys) -> None:
    bar = ProgressBar(enabled=False)
    bar.show(Progress("index", 1, 3, "a.jpg"))
    bar.close()
    assert capsys.readouterr().err == ""
