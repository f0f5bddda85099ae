"""Outgoing HTTP: httpx clients that share one TLS context per process.

httpx builds a new `ssl.SSLContext` for every client it creates, the one behind each module-level `httpx.get`
included, and loads the whole CA bundle into it: about 30 ms of CPU per call, even for a plain http:// URL (measured
side by side: 30.5 ms per `httpx.Client()`, 0.06 ms with a context passed in). Everything that polls a service paid it
on every poll; over `make test` it was the largest single cost (py-spy: a sixth of the samples). The context here is
the one httpx builds by default (`httpx.create_ssl_context()`: certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR),
built once.

Use ``client(...)`` where ``httpx.Client(...)`` was meant, and ``get``/``post``/``put``/``delete``/``request`` for one
call; they take httpx's own arguments.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx

# What httpx's one-call functions give the client they open; everything else belongs to the request.
_CLIENT_OPTIONS = ("timeout", "verify", "cert", "proxy", "trust_env", "cookies")


@functools.cache
def tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def client(**options: Any) -> httpx.Client:
    options.setdefault("verify", tls_context())
    return httpx.Client(**options)


def request(method: str, url: str | httpx.URL, **arguments: Any) -> httpx.Response:
    options = {name: arguments.pop(name) for name in _CLIENT_OPTIONS if name in arguments}
    with client(**options) as http:
        return http.request(method, url, **arguments)


def get(url: str | httpx.URL, **arguments: Any) -> httpx.Response:
    return request("GET", url, **arguments)


def post(url: str | httpx.URL, **arguments: Any) -> httpx.Response:
    return request("POST", url, **arguments)


def put(url: str | httpx.URL, **arguments: Any) -> httpx.Response:
    return request("PUT", url, **arguments)


def delete(url: str | httpx.URL, **arguments: Any) -> httpx.Response:
    return request("DELETE", url, **arguments)
