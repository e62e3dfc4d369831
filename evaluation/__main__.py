"""``python -m evaluation``: run an evaluation suite (see ``evaluation.cli``)."""

from evaluation.cli import main

raise SystemExit(main())
