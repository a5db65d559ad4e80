"""Sample web service: answers / and a health endpoint. Standard library only, so the image is
small and the health check has no dependency to fail on."""

import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEALTH_PATH = os.environ.get("HEALTH_PATH", "/healthz")


class Handler(BaseHTTPRequestHandler):
    server_version = "sample"
    sys_version = ""

    def do_GET(self) -> None:
        if self.path == HEALTH_PATH:
            self._reply(200, {"status": "ok"})
        elif self.path == "/":
            self._reply(200, {"service": os.environ.get("SERVICE_NAME", "sample"),
                              "version": os.environ.get("APP_VERSION", "dev"),
                              "greeting_configured": bool(os.environ.get("API_TOKEN"))})
        else:
            self._reply(404, {"error": "not found"})

    def _reply(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, fmt: str, *args) -> None:
        # One JSON line per request on stdout, for the awslogs driver; never headers or bodies.
        print(json.dumps({"method": self.command, "path": self.path.split("?")[0],
                          "status": args[1] if len(args) > 1 else None}), flush=True)


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    # ECS stops tasks with SIGTERM. shutdown() waits for serve_forever() to return, so it must
    # run on another thread than the one serving (the handler runs on that one).
    signal.signal(signal.SIGTERM,
                  lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(json.dumps({"listening": port}), flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
