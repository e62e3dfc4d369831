"""Answering a question about a photo: perceive, retrieve, state what the records say, generate, check."""
