"""A `medina` command run in a fresh process without paying for Python's start and the app's imports each time.

A server process imports the command line once (with the environment the tests give it), then forks a child
per command: the child gets its own standard input, output and error (files), its arguments and a clean exit
code, as a process started from scratch would; the parent answers with that code. It never opens the database
itself, so no child inherits a connection. Used by tests/test_cli.py, where a real process per command took
0.5 s of start-up alone.
"""

import os
import pickle
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

SERVER = r"""
import io, os, pickle, struct, sys

import app.cli  # the command line and what its commands import, once
import app.main  # noqa: F401

requests, answers = os.fdopen(0, "rb", buffering=0), os.fdopen(1, "wb", buffering=0)


def read(n):
    data = b""
    while len(data) < n:
        chunk = requests.read(n - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    return data


while True:
    (size,) = struct.unpack(">I", read(4))
    args, stdin_path, out_path, err_path = pickle.loads(read(size))
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.dup2(os.open(stdin_path, os.O_RDONLY), 0)
            os.dup2(os.open(out_path, os.O_WRONLY | os.O_TRUNC), 1)
            os.dup2(os.open(err_path, os.O_WRONLY | os.O_TRUNC), 2)
            sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, closefd=False)))
            sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), line_buffering=True)
            sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)), line_buffering=True)
            sys.argv = ["medina", *(os.fsdecode(a) for a in args)]
            try:
                app.cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    answers.write(struct.pack(">i", os.waitstatus_to_exitcode(status)))
"""


class ForkServer:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="medina-forks-"))
        self._process = subprocess.Popen(
            [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=cwd
        )

    def run(self, args: list[str | bytes], stdin: bytes) -> subprocess.CompletedProcess[str]:
        paths = [self._tmp / name for name in ("stdin", "stdout", "stderr")]
        paths[0].write_bytes(stdin)
        for path in paths[1:]:
            path.write_bytes(b"")
        request = pickle.dumps((args, *(str(p) for p in paths)))
        pipe_in: IO[bytes] = self._process.stdin  # type: ignore[assignment]
        pipe_out: IO[bytes] = self._process.stdout  # type: ignore[assignment]
        pipe_in.write(struct.pack(">I", len(request)) + request)
        pipe_in.flush()
        answer = pipe_out.read(4)
        if len(answer) != 4:
            raise RuntimeError(f"the fork server stopped (exit code {self._process.poll()})")
        (code,) = struct.unpack(">i", answer)
        out, err = (p.read_bytes().decode(errors="replace") for p in paths[1:])
        return subprocess.CompletedProcess(["medina", *map(os.fsdecode, args)], code, out, err)

    def close(self) -> None:
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._process.wait(timeout=30)
        for path in self._tmp.iterdir():
            path.unlink()
        self._tmp.rmdir()

    def __enter__(self) -> "ForkServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
