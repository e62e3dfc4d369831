"""Memory: what conversations teach (facts, sightings, triggers, persona) and its consolidation over sessions."""
