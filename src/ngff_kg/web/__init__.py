"""The web server: the SPARQL endpoint at ``/sparql``, the catalogue at ``/``, JSON at ``/api``.

Needs ``pip install 'ngff-kg[serve]'`` (Starlette and Uvicorn). :func:`serve` runs the server;
:func:`~ngff_kg.web.app.create_app` builds the ASGI application.
"""

from __future__ import annotations

from ngff_kg.web.server import serve

__all__ = ["serve"]
