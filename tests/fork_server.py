"""A fork server for the run-folder harnesses: ``estate`` commands as real processes,
started in milliseconds.

Importing the project's dependencies takes a second or more; the kill -9 and
concurrent-run harnesses start dozens of ``estate`` processes.  This server imports
everything once, then forks one child a command: each child is a real process running
the real command line (``cli.main``), which the harness can kill with SIGKILL at any
moment.  Nothing has been solved in the server before it forks (no solver threads
exist to be lost in the child).

Protocol, one JSON object a line on stdin, one answer a line on stdout:

- ``{"spawn": [ARGS...], "cwd": DIR, "log": FILE}`` -> ``{"pid": N}``; the child runs
  ``estate ARGS...`` in DIR with stdout and stderr to FILE (with ``"max_file_bytes"``,
  no file it writes may grow beyond that: writes fail with EFBIG, as on a full disk);
- ``{"wait": N}`` -> ``{"code": C, "signal": S, "seconds": T}`` once the child has
  ended (``seconds`` from spawn to the child's end, which it writes to ``FILE.end``);
- ``{"quit": true}`` ends the server.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any


def _warm() -> None:
    """Import what ``estate run`` imports, without running anything."""
    import cli  # noqa: F401
    from geodata import osm  # noqa: F401


def _child(args: list[str], cwd: str, log: str, max_file_bytes: int | None) -> None:
    code = 1
    try:
        os.chdir(cwd)
        if max_file_bytes is not None:  # a disk that refuses to grow a file any further
            import resource

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        from cli import main

        try:
            main(args, prog_name="estate")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # a harness child must never return into the server's loop
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        with open(f"{log}.end", "w") as end:  # when it ended, for the harness's clock
            end.write(repr(time.monotonic()))
        os._exit(code)


def serve() -> None:
    _warm()
    started: dict[int, tuple[float, str]] = {}
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        request: dict[str, Any] = json.loads(line)
        if "spawn" in request:
            pid = os.fork()
            if pid == 0:
                _child(
                    list(request["spawn"]),
                    request["cwd"],
                    request["log"],
                    request.get("max_file_bytes"),
                )
            started[pid] = (time.monotonic(), request["log"])
            answer: dict[str, Any] = {"pid": pid}
        elif "wait" in request:
            pid = int(request["wait"])
            _, status = os.waitpid(pid, 0)
            start, log = started.pop(pid)
            try:
                with open(f"{log}.end") as end:
                    seconds = float(end.read()) - start
                os.unlink(f"{log}.end")
            except (OSError, ValueError):  # killed before it could say
                seconds = time.monotonic() - start
            answer = {
                "code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                "seconds": seconds,
            }
        else:
            break
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    serve()
