"""Throughput of the tests' loopback HTTP server (``tests/servers.py``) under obstore.

    python benchmarks/fixture_http.py [--latency 0.05] [--clients 64 128] [--seconds 3]

Serves a small tree and, for each number of clients, runs that many concurrent obstore
``get_async`` loops in this process (as the harvester's tests do: client and server share the
process, the server in its own thread) for ``--seconds``; prints requests per second. With
``C`` clients each waiting ``latency`` per request, ``C / latency`` is the ceiling.

No figure is asserted anywhere: run it by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import obstore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from servers import FixtureHttpServer


async def run(store: object, paths: list[str], clients: int, seconds: float) -> int:
    done = 0
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        nonlocal done
        n = i
        while time.perf_counter() < deadline:
            result = await obstore.get_async(store, paths[n % len(paths)])
            await result.bytes_async()
            done += 1
            n += 1

    await asyncio.gather(*(client(i) for i in range(clients)))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--clients", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = []
        for i in range(100):
            path = root / f"d{i}.zarr" / "zarr.json"
            path.parent.mkdir()
            path.write_text(json.dumps({"zarr_format": 3, "node_type": "group", "i": i}))
            paths.append(f"d{i}.zarr/zarr.json")
        with FixtureHttpServer(root, latency=args.latency) as server:
            store = server.store(pool_max_idle_per_host="1024")
            for clients in args.clients:
                asyncio.run(run(store, paths, clients, 0.5))  # warm the connection pool
                server.reset()
                start = time.perf_counter()
                done = asyncio.run(run(store, paths, clients, args.seconds))
                elapsed = time.perf_counter() - start
                assert server.count(status=200) == done, (server.count(status=200), done)
                ceiling = clients / args.latency if args.latency else float("inf")
                print(
                    f"latency {args.latency * 1000:.0f} ms, {clients:4d} clients: "
                    f"{done / elapsed:7.0f} requests/s (ceiling {ceiling:.0f})"
                )


if __name__ == "__main__":
    main()
