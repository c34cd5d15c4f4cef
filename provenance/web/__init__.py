"""The customer's path: a GS1 Digital Link resolver that shows a batch's verification.

`app.create_app(source)` builds the read-only ASGI app; `source.RpcSource` is its one door into
the library; `server` runs it under uvicorn. See `provenance serve --help`.
"""
