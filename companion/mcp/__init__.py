"""``companion mcp``: the records as a Model Context Protocol server for the user's other AI apps.

A front end beside the command line and the window, over ``companion.app`` only (import-linter):
``server.py`` declares the tools and resources with the official ``mcp`` SDK and serves them over
stdio (the transport desktop clients launch; no network listener), ``serialize.py`` turns the app's
typed results into small, cited JSON at the edge. Read-only unless the user turns writes on.
"""
