#!/usr/bin/env python3
"""A tiny HTTP/1.1 proxy that adds a fixed latency to every request, for benchmarks against moto.

It forwards each request unchanged (method, path, headers including Host, so SigV4 signatures still verify) to the
upstream after sleeping `latency` seconds, and counts what is in flight: requests, and request plus response body
bytes. `GET /__proxy/stats` answers the peaks as JSON; `POST /__proxy/reset` clears them; `POST /__proxy/latency`
with a body in milliseconds changes the latency. Run it alone (`latency_proxy.py --upstream URL --latency-ms 20`) or
import `start()`.
"""
import argparse
import http.client
import os
import http.server
import json
import ssl
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = 0.0
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = 0
            self.in_flight = 0
            self.bytes_in_flight = 0
            self.peak_requests = 0
            self.peak_bytes = 0
            self.total_bytes = 0
            # Every request since the reset: (start, end, method, path, range), for `serial_round_trips`.
            self.log = []

    def enter(self, size):
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.bytes_in_flight += size
            self.total_bytes += size
            self.peak_requests = max(self.peak_requests, self.in_flight)
            self.peak_bytes = max(self.peak_bytes, self.bytes_in_flight)

    def grow(self, size):
        with self.lock:
            self.bytes_in_flight += size
            self.total_bytes += size
            self.peak_bytes = max(self.peak_bytes, self.bytes_in_flight)

    def leave(self, size):
        with self.lock:
            self.in_flight -= 1
            self.bytes_in_flight -= size

    def record(self, started, ended, method, path, byte_range):
        with self.lock:
            self.log.append((started, ended, method, path, byte_range))

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "peakRequestsInFlight": self.peak_requests,
                    "peakBytesInFlight": self.peak_bytes, "bytes": self.total_bytes,
                    "latencyMs": round(self.latency * 1000)}


def make_handler(upstream, stats):
    parsed = urllib.parse.urlsplit(upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without TCP_NODELAY a response's headers and body, written apart, meet the client's delayed ACK: about
        # 40 ms on every request of a reused connection, at "0 ms" too.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def upstream_connection(self):
            if getattr(self, "_upstream", None) is None:
                self._upstream = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=300)
            return self._upstream

        def answer(self, status, body, content_type="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def control(self):
            if self.path == "/__proxy/stats":
                self.answer(200, json.dumps(stats.snapshot()).encode())
            elif self.path == "/__proxy/reset":
                stats.reset()
                self.answer(200, b"{}")
            elif self.path == "/__proxy/latency":
                length = int(self.headers.get("Content-Length", "0"))
                stats.latency = float(self.rfile.read(length) or b"0") / 1000
                self.answer(200, b"{}")
            else:
                self.answer(404, b"{}")

        def forward(self):
            if self.path.startswith("/__proxy/"):
                return self.control()
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else None
            held = length
            stats.enter(held)
            started = time.monotonic()
            answered = 0
            try:
                if stats.latency:
                    time.sleep(stats.latency)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                for attempt in range(2):
                    connection = self.upstream_connection()
                    try:
                        connection.request(self.command, self.path, body=body, headers=headers)
                        response = connection.getresponse()
                        data = response.read()
                        break
                    except (http.client.HTTPException, ConnectionError):
                        connection.close()
                        self._upstream = None
                        if attempt == 1:
                            raise
                stats.grow(len(data))
                held += len(data)
                self.send_response(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                answered = len(data)
            finally:
                stats.leave(held)
                stats.record(started, time.monotonic(), self.command, self.path, self.headers.get("Range"))
                if os.environ.get("LATENCY_PROXY_LOG"):
                    # One line per request, written when it ends: start and end time, method, path with query, Range
                    # header, request and response body bytes. Sorted by start, it shows which requests waited for
                    # one another.
                    with open(os.environ["LATENCY_PROXY_LOG"], "a") as log:
                        log.write(f"{started:.3f} {time.monotonic():.3f} {self.command} {self.path} "
                                  f"{self.headers.get('Range', '-')} {length} {answered}\n")

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = forward

    return Handler


def serial_round_trips(log, until=None, slack=0.002):
    """The longest chain of requests in `log` each of which started only after the one before it ended: the round
    trips that waited for one another. With `until` (a predicate on a request), the chain up to and including the
    first request it holds for, i.e. how many round trips came one after the other before it; None if none does."""
    requests = sorted(log)
    depth = []
    for index, (started, _, *_rest) in enumerate(requests):
        before = [depth[other] for other in range(index) if requests[other][1] <= started + slack]
        depth.append(1 + max(before, default=0))
        if until is not None and until(requests[index]):
            return depth[-1]
    if until is not None:
        return None
    return max(depth, default=0)


def start(upstream, latency_ms=0.0, port=0, tls=None):
    """Starts the proxy on 127.0.0.1 in a background thread; returns (server, stats). `tls` is (certificate file,
    key file): the proxy then serves HTTPS with that certificate (an S3 endpoint behind a private CA)."""
    stats = Stats()
    stats.latency = latency_ms / 1000
    class Server(http.server.ThreadingHTTPServer):
        # The default listen backlog (5) overflows when a client opens a dozen connections at once; the dropped
        # handshakes are retried after about half a second, which showed as a lull with nothing in flight.
        request_queue_size = 128

    server = Server(("127.0.0.1", port), make_handler(upstream, stats))
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, stats


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (needs --tls-key)")
    parser.add_argument("--tls-key")
    arguments = parser.parse_args()
    tls = (arguments.tls_cert, arguments.tls_key) if arguments.tls_cert else None
    server, _ = start(arguments.upstream, arguments.latency_ms, arguments.port, tls)
    scheme = "https" if tls else "http"
    print(f"{scheme}://127.0.0.1:{server.server_address[1]}", flush=True)
    threading.Event().wait()
