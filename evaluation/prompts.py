"""Prompt builders of the baselines (completion style: the test model is a base model).

- no memory: the question and what a model sees in the photo without memory (categories only);
- full history: every dated turn and photo, newest kept, oldest dropped to fit the context
  (the long-context baselines of CoViP and PersonaVLM), plus who perception says is in the photo;
- RAP: the top-K concept cards by similarity with *no threshold*, so K cards always come.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

ANSWER_TAIL = "\nAnswer:"


def photo_line(taken_at: datetime | None, shows: list[str], unknown: int = 0) -> str:
    who = list(shows) + ([f"{unknown} person(s) you do not recognize"] if unknown else [])
    when = f" (taken {taken_at:%Y-%m-%d %a})" if taken_at else ""
    return f"New photo{when}: it shows {' and '.join(who) if who else 'nothing you recognize'}."


def ask_block(photo: str, question: str) -> str:
    return (photo + "\n" if photo else "") + f"Question: {question}{ANSWER_TAIL}"


def no_memory(photo: str, question: str) -> str:
    return "You are a helpful assistant. Answer in one or two sentences.\n" + ask_block(photo, question)


def full_history(lines: list[str], photo: str, question: str, count: Callable[[str], int],
                 budget: int) -> tuple[str, int]:
    """The prompt and how many history lines it kept: newest lines that fit ``budget`` tokens in total."""
    head = "You are the user's personal assistant. This is everything the user told you and every photo they took:\n"
    tail = "\n\n" + ask_block(photo, question)
    room = budget - count(head) - count(tail)
    kept: list[str] = []
    for line in reversed(lines):
        cost = count(line) + 1
        if cost > room:
            break
        kept.append(line)
        room -= cost
    return head + "\n".join(reversed(kept)) + tail, len(kept)


def rap_cards(cards: list[tuple[str, str]], photo: str, question: str) -> str:
    """RAP's card list: ``1. Name: <x>, Info: <info>`` per retrieved concept, then the question."""
    listed = "\n".join(f"{i}. Name: {name}, Info: {info}" for i, (name, info) in enumerate(cards, 1))
    return ("You are a personal assistant. Concepts retrieved for this photo:\n" + listed + "\n"
            + ask_block(photo, question))
