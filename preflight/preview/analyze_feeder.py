"""The process that hands the policy pack one resource at a time while the program registers.

`python -m preflight.preview.analyze_feeder <pack address>`: reads AnalyzeRequests from stdin, each as a
4-byte big-endian length and the bytes gRPC sends, and makes the Analyze calls in that order; a
zero length ends the input, and the answers follow on stdout in the same framing (or, when a call
failed, a length of 0xFFFFFFFF and the error's one line).

Why a process: the engine's step generator asks the analyzers about one resource at a time, as
each registration arrives (github:pulumi/pulumi pkg/resource/deploy/step_generator.go), and a
pack's handlers are written for that. Making those calls from the program's own process would put
them behind the program on one interpreter lock; here the program only writes to a pipe, and the
calls and the pack run on the second core. Nothing is parsed: requests and answers stay bytes.
"""

from __future__ import annotations

import collections
import struct
import sys
import threading
from typing import BinaryIO

import grpc

ANALYZE = "/pulumirpc.Analyzer/Analyze"
FAILED = 0xFFFFFFFF
_LENGTH = struct.Struct(">I")


def write_frame(stream: BinaryIO, payload: bytes, length: int | None = None) -> None:
    stream.write(_LENGTH.pack(len(payload) if length is None else length) + payload)


def read_frame(stream: BinaryIO) -> tuple[int, bytes]:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError("the stream ended inside a frame")
    (length,) = _LENGTH.unpack(header)
    if length == FAILED:
        return FAILED, stream.readline()
    return length, stream.read(length)


def feed(address: str, source: BinaryIO, sink: BinaryIO) -> None:
    waiting: collections.deque[bytes | None] = collections.deque()
    arrived = threading.Condition()

    def receive() -> None:
        while True:
            try:
                length, payload = read_frame(source)
            except EOFError:  # the preflight went away: stop, answering no one
                length, payload = 0, b""
            with arrived:
                waiting.append(payload if length else None)
                arrived.notify()
            if not length:
                return

    threading.Thread(target=receive, daemon=True).start()
    answers: list[bytes] = []
    error = ""
    with grpc.insecure_channel(address) as channel:
        analyze = channel.unary_unary(ANALYZE)
        while True:
            with arrived:
                arrived.wait_for(lambda: bool(waiting))
                request = waiting.popleft()
            if request is None:
                break
            if not error:
                try:
                    answers.append(analyze(request))
                except grpc.RpcError as failure:
                    error = (failure.details() or str(failure.code())).replace("\n", " ")
    if error:
        write_frame(sink, (error + "\n").encode(), FAILED)
    else:
        for answer in answers:
            write_frame(sink, answer)
    sink.flush()


if __name__ == "__main__":
    feed(sys.argv[1], sys.stdin.buffer, sys.stdout.buffer)
