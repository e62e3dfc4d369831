"""The pure core: data model, store, and the three jobs built on it.

- ``types``, ``errors``, ``protocols``: shared dataclasses, the error hierarchy, backend Protocols;
  ``deps`` (what a step needs: store, settings, optional models), ``prompts`` (templates);
- ``store/``: SQLite + sqlite-vec + FTS5, migrations, repositories;
- ``library/``: photos on disk -> records (scan, indexing, recognition, photo reminders, face detector choice);
- ``memory/``: conversations -> memories (dates, extract, remember, consolidate, learn, persona);
- ``answer/``: a question about a photo -> a cited answer (perceive, retrieve, intent,
  statements, check, pipeline). It builds on memory; library and memory are independent.

Nothing here imports Qt, llama_cpp, watchdog, onnxruntime, torch or Pillow;
real models reach the core only through the Protocols in ``protocols.py``.
"""
