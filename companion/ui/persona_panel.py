""""How I see you": the Big-Five estimate as five labelled bars, each with a sentence in plain words.

The bars go from 1 to 5 (3 is neutral); the sentence under each says what the
score means ("You seem curious and open to new ideas"), and the panel says how
that changes the way Companion answers.
"""

from __future__ import annotations

from companion.core.types import BIG_FIVE, Persona
from companion.ui.qt import QtWidgets, Signal, emit
from companion.ui.widgets import button, label

TRAIT_NAMES = {"openness": "Openness", "conscientiousness": "Organisation", "extraversion": "Sociability",
               "agreeableness": "Warmth", "neuroticism": "Worry"}
# (low, middle, high) descriptions; "low" below 2.6, "high" above 3.4 on the 1-5 scale.
MEANINGS = {
    "openness": ("You prefer the familiar and practical", "You balance new things and the familiar",
                 "You seem curious and open to new ideas"),
    "conscientiousness": ("You keep plans loose and flexible", "You plan some things and improvise others",
                          "You like plans, lists and things in order"),
    "extraversion": ("You enjoy quiet time and small groups", "You enjoy company and time alone alike",
                     "You get energy from people and company"),
    "agreeableness": ("You are direct and to the point", "You are friendly but frank",
                      "You are warm and considerate with others"),
    "neuroticism": ("You stay calm and steady under pressure", "You worry about as much as most people",
                    "Things weigh on you; you feel stress strongly"),
}


def meaning(trait: str, score: float) -> str:
    low, middle, high = MEANINGS[trait]
    return low if score < 2.6 else high if score > 3.4 else middle


class PersonaPanel(QtWidgets.QFrame):
    """Five bars with their meanings, how answers are shaped, and a reset.

    Signals:
        reset_requested(): the user confirmed a reset.
    """

    reset_requested = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "panel")
        self.setFixedWidth(340)
        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(20, 18, 20, 18)
        column.setSpacing(6)
        column.addWidget(label("How I see you", "heading"))
        self.interactions = label("", "caption", wrap=True)
        column.addWidget(self.interactions)
        column.addSpacing(8)
        self.bars: dict[str, QtWidgets.QProgressBar] = {}
        self.values: dict[str, QtWidgets.QLabel] = {}
        self.meanings: dict[str, QtWidgets.QLabel] = {}
        for trait in BIG_FIVE:
            top = QtWidgets.QHBoxLayout()
            top.addWidget(label(TRAIT_NAMES[trait]), 1)
            value = label("", "caption")
            top.addWidget(value)
            bar = QtWidgets.QProgressBar()
            bar.setProperty("role", "trait")
            bar.setRange(100, 500)  # hundredths of the 1-5 scale
            bar.setTextVisible(False)
            bar.setFixedHeight(10)
            bar.setAccessibleName(f"{TRAIT_NAMES[trait]} ({trait}), 1 to 5")
            words = label("", "muted", wrap=True)
            column.addLayout(top)
            column.addWidget(bar)
            column.addWidget(words)
            column.addSpacing(8)
            self.bars[trait], self.values[trait], self.meanings[trait] = bar, value, words
        column.addWidget(label("How I answer you", "caption"))
        self.tone = label("", wrap=True)
        column.addWidget(self.tone)
        column.addStretch(1)
        self.reset_button = button("Reset to neutral…", "retry", slot=self._confirm_reset)
        column.addWidget(self.reset_button)

    def show_persona(self, persona: Persona, tone: str = "") -> None:
        for trait, score in persona.scores().items():
            self.bars[trait].setValue(round(score * 100))
            self.values[trait].setText(f"{score:.2f}")
            self.meanings[trait].setText(meaning(trait, score))
        self.interactions.setText(
            f"Learned from {persona.interactions} conversation{'s' if persona.interactions != 1 else ''} "
            "· Big Five traits, 1 to 5" if persona.interactions
            else "Nothing learned yet: everything is neutral until we talk more.")
        self.tone.setText(tone[:1].upper() + tone[1:] + "." if tone else "In a neutral, friendly tone.")

    def _confirm_reset(self) -> None:
        answer = QtWidgets.QMessageBox.question(self, "Reset persona", "Reset the personality estimate to neutral?")
        if answer == QtWidgets.QMessageBox.StandardButton.Yes:
            emit(self.reset_requested)
