"""An optional bearer token for `seqkit serve` (`--token` or SEQKIT_TOKEN), checked before anything else runs.

With a token set, every request must carry `Authorization: Bearer <token>` or gets 401, except the demo page
(`/` and `/static/...`): those are fixed files that hold nothing about the models, and the page sends the token
it reads from its address (`/#token=...`; a fragment never reaches the server or its logs) with every request
it makes. /health needs the token too: it lists the models. The check runs ahead of the body limit, so that a
client without the token cannot make the server read a body at all.
"""

import hmac

from fastapi.responses import JSONResponse

OPEN_PATHS = ("/",)
OPEN_PREFIXES = ("/static/",)


class BearerToken:
    """ASGI middleware: answer 401 to HTTP requests without `Authorization: Bearer <token>`, but for the demo page."""

    def __init__(self, app, token: str):
        self.app = app
        # HTTP trims the whitespace around a header's value, so a token's own would never match.
        self.expected = token.strip().encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self._open(scope["path"]) or self._carries_token(scope["headers"]):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"detail": "this server needs its token: send the header 'Authorization: Bearer <token>'"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)

    @staticmethod
    def _open(path: str) -> bool:
        return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)

    def _carries_token(self, headers: list[tuple[bytes, bytes]]) -> bool:
        for name, value in headers:
            if name == b"authorization":
                scheme, _, presented = value.partition(b" ")
                # compare_digest: the time taken does not tell how much of a guess was right.
                return scheme.lower() == b"bearer" and hmac.compare_digest(presented.strip(), self.expected)
        return False
