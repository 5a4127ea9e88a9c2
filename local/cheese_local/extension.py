"""The AWS Parameters and Secrets Lambda Extension's HTTP API, served from moto.

In AWS the extension runs beside each function and answers
``GET /systemsmanager/parameters/get?name=`` and ``GET /secretsmanager/get?secretId=``
on localhost, refusing a request without the function's session token in
``X-Aws-Parameters-Secrets-Token``. This server answers the same requests,
in the same JSON shapes, from moto's SSM and Secrets Manager, so the local
stack and the tests read parameters exactly as a deployed function does
(``cheese_runtime.parameters``). It keeps no cache: the real extension's
5-minute cache is a latency optimisation nothing here may depend on.
"""

from __future__ import annotations

import json
import os
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cheese_runtime import aws
from cheese_runtime.parameters import TOKEN_HEADER


class _UnknownPath(Exception):
    """Not one of the extension's paths (a KeyError is a LookupError: kept apart)."""


def _answer(path: str, query: dict[str, list[str]]) -> dict[str, Any]:
    if path == "/systemsmanager/parameters/get":
        response = aws.client("ssm").get_parameter(
            Name=query["name"][0],
            WithDecryption=query.get("withDecryption", ["false"])[0] == "true",
        )
        return {"Parameter": response["Parameter"]}
    if path == "/secretsmanager/get":
        response = aws.client("secretsmanager").get_secret_value(SecretId=query["secretId"][0])
        return {k: v for k, v in response.items() if k != "ResponseMetadata"}
    raise _UnknownPath(path)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get(TOKEN_HEADER) != os.environ.get("AWS_SESSION_TOKEN", ""):
            self._send(HTTPStatus.UNAUTHORIZED, {"message": "missing or wrong session token"})
            return
        url = urlsplit(self.path)
        try:
            body = _answer(url.path, parse_qs(url.query))
        except _UnknownPath:
            self._send(HTTPStatus.NOT_FOUND, {"message": "unknown path"})
        except KeyError as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"message": f"missing query parameter {exc}"})
        except Exception as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"message": str(exc)})
        else:
            self._send(HTTPStatus.OK, body)

    def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the function's own logs say what it read."""


class ParametersExtension:
    """The extension's API on 127.0.0.1, on a free port."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="parameters-extension", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
