"""A real local HTTP server for model downloads in tests: files by name, Range requests, one cut response."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FileServer:
    """Serves ``files`` (name -> bytes) at ``<base>/<folder>/<name>`` on 127.0.0.1, honouring ``Range``.

    The first response for the file named ``cut_first`` stops halfway and drops the connection, as a
    flaky network does. ``requests`` records (name, Range header) of every request, in order.
    """

    def __init__(self, files: dict[str, bytes], folder: str = "files", cut_first: str | None = None) -> None:
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                rng = self.headers.get("Range")
                server.requests.append((name, rng))
                if name not in files:
                    self.send_error(404)
                    return
                body = files[name]
                start = int(rng.removeprefix("bytes=").split("-")[0]) if rng else 0
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if name == cut_first and server.ranges(name) == [rng]:
                    self.wfile.write(body[: len(body) // 2])  # then drop the connection
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/{folder}"

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def ranges(self, name: str) -> list[str | None]:
        """The Range header of each request for ``name`` (None: the whole file)."""
        return [rng for n, rng in self.requests if n == name]

    def __enter__(self) -> FileServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
