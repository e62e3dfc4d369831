"""Forget leaves nothing: a byte search of every file in the profile, while another process holds the
database open (the window), finds none of the name, the texts, the vectors or the reference photo."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from companion.app import concepts, memories, people
from companion.app.services import Services
from companion.core.store.memories import NewMemory
from companion.core.store.photos import PhotoRecord
from companion.core.types import Box

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
NAME = "Zephyrine"
SECRET = "My locker code is quokkaberry and it opens at dawn."
# The window: another process with the database open (read once, then idle), as while the app runs.
WINDOW = ("import sys\nfrom companion.core.store import Store\ns = Store.open(sys.argv[1])\n"
          "s.concepts.list(); s.memories.count()\nprint('open', flush=True)\nsys.stdin.readline()\ns.close()\n")


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype("<f4")


def profile_bytes(home: Path) -> Iterator[tuple[Path, bytes]]:
    for path in sorted(home.rglob("*")):
        if path.is_file():
            yield path, path.read_bytes()


def traces(home: Path, needles: dict[str, bytes]) -> list[str]:
    """Which needles occur in which files (text needles case-insensitively)."""
    found = []
    for path, data in profile_bytes(home):
        lowered = data.lower()
        for label, needle in needles.items():
            if needle in (lowered if label.startswith("text") else data):
                found.append(f"{label} in {path.relative_to(home)}")
    return found


@pytest.fixture
def window(tmp_path: Path) -> Iterator[None]:
    services = Services.open(tmp_path / "home")
    services.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", WINDOW, str(tmp_path / "home" / "data" / "companion.db")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None and child.stdout.readline().strip() == "open"
    yield
    assert child.stdin is not None
    child.stdin.write("\n")
    child.stdin.flush()
    child.wait(timeout=30)


def test_forget_leaves_no_byte_of_the_person_or_the_memory(tmp_path: Path, window: None) -> None:
    home = tmp_path / "home"
    services = Services.open(home)
    store = services.store
    rng = np.random.default_rng(7)
    key = unit(rng.normal(size=128))
    # The reference photo, copied into the profile as `concepts add --image` does.
    photo_bytes = rng.bytes(4096)
    person = store.concepts.add(NAME, "person", "my neighbour")
    copy = services.paths.concept_images_dir / f"concept-{person.id}-00aa11bb.jpg"
    copy.write_bytes(b"\xff\xd8\xff\xe0" + photo_bytes)
    store.concepts.add_ref(person.id, "face", key, image_path=str(copy))
    # Library photos where matching recognised her face through that key, in a group nobody named,
    # plus a face of hers a little further from the key that clustering put in the same group.
    group = store.faces.new_cluster()
    vectors = {}
    for i in range(4):
        pid = store.photos.upsert(PhotoRecord(f"/pictures/{i}.jpg", f"h{i}", 1, 1.0, T0, "exif", None, None, None,
                                              100, 100, None))
        noise = 0.02 if i < 3 else 0.45
        vector = unit(key + noise * unit(rng.normal(size=128)))
        face = store.faces.add(pid, Box(10, 10, 50, 50), 0.9, vector)
        store.faces.set_cluster([face], group)
        vectors[f"face vector {i}"] = vector.tobytes()[:32]
        if i < 3:
            store.observations.add(person.id, time=T0, place="", source="face", kind="sighting", photo_id=pid)
    stranger_group, stranger_face = store.faces.new_cluster(), unit(rng.normal(size=128))
    strangers = []
    for i in range(2):      # a group to name shows faces from two photos or more
        stranger_photo = store.photos.upsert(PhotoRecord(f"/pictures/s{i}.jpg", f"hs{i}", 1, 1.0, T0, "exif", None,
                                                         None, None, 100, 100, None))
        strangers.append(store.faces.add(stranger_photo, Box(0, 0, 40, 40), 0.9, stranger_face))
    store.faces.set_cluster(strangers, stranger_group)
    # A chat titled with her name, what was said, and what was learnt from it.
    conversation = store.conversations.start(f"Lunch with {NAME}?", T0)
    told = store.conversations.add_turn(conversation.id, "user", f"I had lunch with {NAME} at the harbour.", T0)
    # An imported group chat: what she said herself, and what was learnt about her from it.
    hers = store.conversations.add_turn(conversation.id, "user", "The tide tables are wrong again.", T0,
                                        speaker=NAME)
    store.memories.add(NewMemory("semantic", "Thinks the tide tables are wrong.", ("tide",),
                                 source_turn_ids=(hers.id,), speaker=NAME, subject=NAME), unit(rng.normal(size=384)))
    secret = store.conversations.add_turn(conversation.id, "user", f"{SECRET} The bus was late.", T0)
    later = store.conversations.start("Codes", T0)
    store.conversations.add_turn(later.id, "user", "What opens my locker?", T0)
    store.conversations.add_turn(later.id, "assistant", f"You told me: {SECRET} Anything else?", T0)
    about = unit(rng.normal(size=384))
    store.memories.add(NewMemory("semantic", f"I had lunch with {NAME} at the harbour.", (NAME, "lunch"),
                                 concept_ids=(person.id,), source_turn_ids=(told.id,)), about)
    secret_vector = unit(rng.normal(size=384))
    secret_id = store.memories.add(NewMemory("semantic", SECRET, ("locker",), source_turn_ids=(secret.id,)),
                                   secret_vector)
    store.memories.add(NewMemory("episodic", f"Conversation on 1 May: {SECRET}", ("locker",),
                                 source_turn_ids=(secret.id,)), unit(rng.normal(size=384)))
    needles = {"text name": NAME.lower()[:8].encode(), "text secret": b"quokkaberr", "text hers": b"tide tables",
               "key vector": key.tobytes()[:32], "memory vector": about.tobytes()[:32],
               "secret vector": secret_vector.tobytes()[:32], "photo": photo_bytes[:64], **vectors}
    assert len(traces(home, needles)) >= len(needles)       # all of it is on disk before

    report = concepts.forget_concept(services, NAME)
    assert memories.forget_memory(services, secret_id)

    assert report.faces == 4 and report.wal_cleared
    assert traces(home, needles) == []
    assert not copy.exists()
    # Her faces do not come back as "Who is this?"; the stranger's group and the user's photos stay.
    groups = people.people(services).groups
    assert [[face for face, _ in g.faces] for g in groups] == [strangers]
    assert store.photos.count() == 6
    assert [t.text for t in store.conversations.turns()] == ["The bus was late.", "What opens my locker?",
                                                            "Anything else?"]
    assert store.conversations.get(conversation.id).title == "Lunch with [forgotten]?"
    services.close()
