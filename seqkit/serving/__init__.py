"""Serving trained models over HTTP (`seqkit serve`), with a demo page; needs the `serve` extra.

endpoints.py is the task table, batching.py merges concurrent requests, app.py builds the FastAPI app.
"""
