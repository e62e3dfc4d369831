"""The pure core: data model, store, indexing, memory, retrieval, answering.

Nothing here imports Qt, llama_cpp, watchdog, onnxruntime, torch or Pillow;
real models reach the core only through the Protocols in ``protocols.py``.
"""
