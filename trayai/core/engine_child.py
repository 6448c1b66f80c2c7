"""The built-in server's child program (``python -m trayai.core.engine_child``): llama.cpp's C++
server from xllamacpp on loopback, until SIGTERM/SIGINT (docs/architecture.md, "The built-in server").
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

HOST = "127.0.0.1"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trayai.core.engine_child")
    parser.add_argument("--model", required=True, help="GGUF file")
    parser.add_argument("--alias", required=True, help="model name announced in /v1/models")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx-size", type=int, required=True, help="KV cache tokens, shared by the slots")
    parser.add_argument("--parallel", type=int, required=True, help="answers generated at once")
    parser.add_argument("--threads", type=int, required=True, help="CPU threads for generation")
    parser.add_argument("--gpu-layers", type=int, help="layers on the GPU (default: the engine's choice)")
    template = parser.add_mutually_exclusive_group()
    template.add_argument("--chat-template", help="one of llama.cpp's built-in chat templates, by name")
    template.add_argument("--chat-template-file", help="a Jinja chat template file")
    return parser


def serve(args: argparse.Namespace) -> int:
    # lazy: xllamacpp is loaded only when used: start-up time and memory
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = [HOST]  # never beyond loopback, whatever the caller passes
    params.port = args.port
    params.n_ctx = args.ctx_size
    params.n_parallel = args.parallel
    # One KV cache shared by the slots: a lone answer may use the whole context, parallel answers
    # share it (per-slot caches would cut each slot to ctx/parallel).
    params.kv_unified = True
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    if args.gpu_layers is not None:
        params.n_gpu_layers = args.gpu_layers
    if args.chat_template:  # a built-in name works through llama.cpp's own formatter, not Jinja
        params.chat_template = args.chat_template
        params.use_jinja = False
    elif args.chat_template_file:
        params.chat_template = Path(args.chat_template_file).read_text(encoding="utf-8")
    params.endpoint_metrics = True
    params.endpoint_slots = True
    params.ui = False
    params.warmup = False
    # Default dispositions: SIGTERM/SIGINT end the process in the kernel at once, even while a model
    # loads inside C++ or a stream is being written (a polite teardown mid-stream took ~30 s).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    server = xllamacpp.Server(params)
    print(f"trayai engine: listening on {server.listening_address} as {args.alias}", flush=True)
    threading.Event().wait()  # serve until a signal ends the process
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return serve(args)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"trayai engine: cannot serve {args.model}: {exc}", file=sys.stderr, flush=True)
        return 3


if __name__ == "__main__":
    sys.exit(main())
