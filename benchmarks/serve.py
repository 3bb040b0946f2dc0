"""Load test of `seqkit serve` on loopback: N /tag requests from C concurrent clients. Prints one JSON document.

    python -m benchmarks.serve --run-dir RUN [--requests 1000] [--clients 8] [--repeats 3]

The server runs as a separate `seqkit serve` process (one torch thread) on a free loopback port, so clients and
server do not share an interpreter lock. Each request tags one sentence. Reported per repeat: errors (non-200
answers or failed connections), p50/p99 latency and requests/s; the summary takes the median over repeats,
and the server's batching counts show how many model calls the requests shared.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from benchmarks.common import machine

SENTENCES = [
    "show me flights from boston to denver on monday",
    "what is the cheapest fare from dallas to san francisco",
    "i need a flight tomorrow morning from new york to miami",
    "list all flights arriving in atlanta after 5 pm",
    "which airlines fly from pittsburgh to baltimore",
    "round trip fares from denver to oakland on united",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(run_dir: str, port: int) -> subprocess.Popen:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "seqkit", "serve", run_dir, "--port", str(port)]
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start within 120 s")


def load(url: str, requests: int, clients: int) -> dict:
    """Send `requests` requests from `clients` threads, each with its own connection; latency of each."""

    def client(number: int) -> tuple[list[float], int]:
        latencies, errors = [], 0
        with httpx.Client(base_url=url, timeout=60) as session:
            for index in range(number, requests, clients):
                started = time.perf_counter()
                try:
                    reply = session.post("/tag", json={"texts": [SENTENCES[index % len(SENTENCES)]]})
                    errors += reply.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)
        return latencies, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for latencies, _ in outcomes for latency in latencies)
    return {
        "requests": len(latencies),
        "errors": sum(errors for _, errors in outcomes),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="seqkit serve load test (prints JSON)")
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    port = free_port()
    server = start_server(arguments.run_dir, port)
    url = f"http://127.0.0.1:{port}"
    try:
        load(url, 50, arguments.clients)  # warm-up
        runs = [load(url, arguments.requests, arguments.clients) for _ in range(arguments.repeats)]
        batching = httpx.get(f"{url}/health").json()["models"][0]["batching"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = {
        key: statistics.median([run[key] for run in runs]) for key in ("p50_ms", "p99_ms", "requests_per_second")
    }
    report = {
        "benchmark": "serve",
        "requests_per_run": arguments.requests,
        "clients": arguments.clients,
        "errors": sum(run["errors"] for run in runs),
        **summary,
        "runs": runs,
        "server_batching": batching,
        "machine": machine(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
