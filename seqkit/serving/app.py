"""The HTTP server behind `seqkit serve`: one FastAPI app for every loaded run dir.

Each run dir becomes a named model (its folder name) answered on its task's endpoint from the table in
seqkit/serving/endpoints.py, through its own MicroBatcher so that concurrent requests share model calls.
Besides the task endpoints: `/health` (loaded models and batching counts), `/models` (what the demo page
offers: each model's task, endpoint, and the demo view and placeholder its task declares), `/openapi.json`
(FastAPI's schema, with the limits), and the demo page itself at `/`.

Request bodies larger than `max_body_bytes` are refused with 413 before any parsing; requests that break the
models' limits (too many items, over-long or blank texts, lone surrogates) get FastAPI's 422 with the field at
fault. With a `token`, requests without it get 401 (seqkit/serving/auth.py).
"""

import json
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, create_model

from seqkit.errors import InputError, RunDirError
from seqkit.serving.auth import BearerToken
from seqkit.serving.batching import MicroBatcher
from seqkit.serving.endpoints import ENDPOINTS, MAX_BATCH_TOKENS, MAX_ITEMS, Endpoint
from seqkit.tasks import get_task

STATIC = Path(__file__).parent / "static"
DEFAULT_MAX_BODY_BYTES = 1_000_000


@dataclass
class ServedModel:
    name: str
    task: str
    endpoint: Endpoint
    predictor: Any
    batcher: MicroBatcher


def load_models(run_dirs: Sequence[Path], max_wait_seconds: float = 0.002) -> list[ServedModel]:
    """Load each run dir's predictor; a task with no endpoint, or a repeated name, is a RunDirError."""
    from seqkit.run_dirs.run_dir import read_recipe

    models: list[ServedModel] = []
    for run_dir in map(Path, run_dirs):
        task = read_recipe(run_dir).task
        if task not in ENDPOINTS:
            raise RunDirError(f"{run_dir}: {task!r} models cannot be served yet (served: {', '.join(ENDPOINTS)})")
        name = run_dir.resolve().name
        if any(model.name == name for model in models):
            raise RunDirError(f"{run_dir}: another run dir is also named {name!r}; model names must be unique")
        endpoint = ENDPOINTS[task]
        predictor = endpoint.load(run_dir)
        batcher = MicroBatcher(
            lambda items, predictor=predictor, endpoint=endpoint: endpoint.predict(predictor, items),
            max_items=MAX_ITEMS,
            max_wait_seconds=max_wait_seconds,
            max_tokens=MAX_BATCH_TOKENS,
            tokens=endpoint.tokens,
        )
        models.append(ServedModel(name, task, endpoint, predictor, batcher))
    return models


def create_app(
    models: Sequence[ServedModel], max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, token: str | None = None
) -> FastAPI:
    """The app serving `models` (see load_models); batchers start and stop with the app. With a `token`, every
    request but the demo page's must carry it as `Authorization: Bearer <token>`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        for model in models:
            model.batcher.start()
        yield
        for model in models:
            await model.batcher.stop()

    app = FastAPI(title="seqkit", summary="Neural sequence models on text, served.", lifespan=lifespan)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    if token is not None:
        app.add_middleware(BearerToken, token=token)  # added last, so it runs first
    app.add_exception_handler(RequestValidationError, _refuse_invalid)

    @app.get("/health")
    async def health() -> dict:
        """Liveness, the loaded models and their batching counts."""
        described = [{**_describe(model), "batching": model.batcher.statistics.to_json()} for model in models]
        return {"status": "ok", "models": described}

    @app.get("/models")
    async def list_models() -> list[dict]:
        """The loaded models: name, task, the endpoint that answers for each, and how the demo page draws its
        answers (`view`, one of demo.js's views) and what its empty text box shows (`placeholder`)."""
        return [_describe(model) for model in models]

    @app.get("/", include_in_schema=False)
    async def demo() -> FileResponse:
        return FileResponse(STATIC / "demo.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    for task, endpoint in ENDPOINTS.items():
        served = {model.name: model for model in models if model.task == task}
        if served:
            _add_endpoint(app, endpoint, served)
    return app


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped, so that any Python string encodes, lone surrogates too."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


async def _refuse_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
    # FastAPI's own 422, but ASCII: pydantic echoes the input at fault, which may hold a lone surrogate that the
    # default UTF-8 rendering cannot encode (a 500 with a traceback).
    return AsciiJSONResponse({"detail": jsonable_encoder(error.errors())}, status_code=422)


def _describe(model: ServedModel) -> dict:
    task = get_task(model.task)
    return {
        "name": model.name,
        "task": model.task,
        "endpoint": model.endpoint.path,
        "view": task.demo_view,
        "placeholder": task.demo_placeholder,
    }


def _add_endpoint(app: FastAPI, endpoint: Endpoint, served: dict[str, ServedModel]) -> None:
    # Named after the path: two endpoints may answer with the same item model (/translate and /summarize).
    response = create_model(
        f"{endpoint.path.strip('/').title()}Response",
        model=(str, ...),
        results=(list[endpoint.answer], ...),
    )

    async def handle(body: BaseModel) -> dict:
        model = _choose(served, body.model, endpoint.path)
        try:
            items = endpoint.items(body) if endpoint.items else getattr(body, endpoint.items_field)
            results = await model.batcher.submit(items)
        except InputError as error:
            raise HTTPException(status_code=422, detail=str(error)) from None
        return {"model": model.name, "results": results}

    # FastAPI reads the body's model from the annotation, which differs per endpoint.
    handle.__annotations__["body"] = endpoint.request
    # exclude_unset: optional answer fields that a predictor leaves out (a /classify answer's contributions when
    # not asked for) are left out of the JSON too, rather than sent as null.
    app.add_api_route(
        endpoint.path, handle, methods=["POST"], response_model=response, summary=endpoint.summary,
        response_model_exclude_unset=True,
    )


def _choose(served: dict[str, ServedModel], name: str | None, path: str) -> ServedModel:
    if name is None:
        if len(served) == 1:
            return next(iter(served.values()))
        raise HTTPException(422, f"several models answer {path}; name one in 'model': {', '.join(served)}")
    if name not in served:
        raise HTTPException(404, f"no model {name!r} answers {path} (loaded: {', '.join(served)})")
    return served[name]


class BodyLimit:
    """ASGI middleware: refuse request bodies over `max_bytes` with 413, whether or not Content-Length is sent.

    The body is read (at most `max_bytes` + one chunk) before the app sees it, then handed on unchanged.
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send) -> None:
        response = JSONResponse({"detail": f"request body is larger than {self.max_bytes} bytes"}, status_code=413)
        await response(scope, receive, send)


def serve(run_dirs: Sequence[Path], host: str = "127.0.0.1", port: int = 8000, token: str | None = None) -> None:
    """Load the run dirs and serve them with uvicorn until interrupted (with a token, see seqkit/serving/auth.py)."""
    import uvicorn

    app = create_app(load_models(run_dirs), token=token)
    if token is not None:
        # The token itself is not printed: this line may end up in a shared log.
        print(f"demo page: http://{host}:{port}/#token=<your token>", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")


class BackgroundServer:
    """Serve an app with uvicorn in a thread on a free loopback port (for tests and benchmarks/serve.py).

        with BackgroundServer(app) as url:
            httpx.get(f"{url}/health")
    """

    def __init__(self, app: FastAPI):
        import socket

        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = None

    def __enter__(self) -> str:
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        host, port = self.socket.getsockname()
        return f"http://{host}:{port}"

    def __exit__(self, *exc_info) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()
