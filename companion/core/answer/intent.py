"""What a question asks for, read from its English wording.

The answer's statements (``statements``) and the checker (``check``) both
depend on it: "where did I last see her?" needs the last sighting and allows
only its place; "is Anna in this photo?" is answered by perception, yes or no.
"""

from __future__ import annotations

import re

WHERE_Q = re.compile(r"\bwhere\b.*\b(?:see|seen|saw|last|meet|met)\b|\blast seen\b", re.I)
DOING_Q = re.compile(r"\bwhat\b.*\b(?:doing|did I do|was I up to)\b", re.I)
# "Is Anna in this photo?", "Do you see Rex here?": answered by perception, never by the card that
# naming Anna pulls into the context.
PRESENCE_Q = re.compile(r"\b(?:is|are)\b.*\b(?:in|on)\s+(?:this|the)\s+(?:photo|picture|image|pic|shot)\b"
                        r"|\b(?:do|can) you see\b", re.I)
WHO_Q = re.compile(r"\bwho(?:'s| is| are)\b", re.I)
