"""`verify --service-url`: does the OSMO service see the backend online?

The service's public API, as NVIDIA/OSMO documents and uses it (read at commit 1da31e19e):
- an OSMO access token is exchanged for a short-lived JWT with `POST /api/auth/jwt/access_token`
  and the body `{"token": "<access token>"}`; the answer is `{"token": "<jwt>", ...}`
  (docs/deployment_guide/appendix/authentication/authentication_flow.rst:74-87;
  src/service/core/auth/auth_service.py:150-156; the CLI does the same, src/lib/utils/login.py
  `token_login`, 318-338);
- requests carry `Authorization: Bearer <jwt>` (src/lib/utils/login.py:36 `OSMO_AUTH_HEADER`,
  src/lib/utils/client.py:492-494);
- `GET /api/configs/backend/{name}` answers the backend (src/service/core/config/
  config_service.py:164-171, model `Backend` in src/utils/connectors/postgres.py:2420-2435)
  whose `online` is true while its last heartbeat is recent (`common.heartbeat_online`); `osmo
  backend list` shows the same field as ONLINE/OFFLINE (src/cli/backend.py:41-55).

The access token comes from an environment variable, never the command line (where `ps` shows
it), and is never printed.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from offline.verify import Check

TOKEN_EXCHANGE = "api/auth/jwt/access_token"
BACKEND = "api/configs/backend/{name}"
AUTH_HEADER = "Authorization"
TIMEOUT = 15.0

Opener = Callable[[urllib.request.Request, float], Any]


def _open(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)


class _Refused(Exception):
    def __init__(self, line: str, fix: str) -> None:
        super().__init__(line)
        self.line = line
        self.fix = fix


@dataclass(frozen=True)
class ServiceProbe:
    """Asks the OSMO service at `url` whether a backend is online."""

    url: str
    token: str = field(repr=False)
    opener: Opener = _open

    def __call__(self, backend: str) -> Check:
        try:
            jwt = self._exchange()
            body = self._get(BACKEND.format(name=backend), jwt)
        except _Refused as err:
            return Check("service", "FAILED", err.line, err.fix)
        online = body.get("online") if isinstance(body, dict) else None  # pyright: ignore[reportUnknownMemberType]
        heartbeat = body.get("last_heartbeat") if isinstance(body, dict) else None  # pyright: ignore[reportUnknownMemberType]
        if online is True:
            return Check("service", "ok", f"backend {backend} is online at {self.url}")
        if online is False:
            return Check(
                "service",
                "FAILED",
                f"backend {backend} is offline at {self.url} (last heartbeat {heartbeat})",
                "the listener's heartbeat does not arrive: see backend-listener above (token "
                "accepted? service URL reachable from the cluster?)",
            )
        return Check(
            "service",
            "FAILED",
            f"{self.url}/{BACKEND.format(name=backend)} answered without `online`",
            "is --service-url the OSMO service's gateway URL?",
        )

    def _exchange(self) -> str:
        answer = self._send(TOKEN_EXCHANGE, {"token": self.token}, None, "the token exchange")
        jwt = answer.get("token") if isinstance(answer, dict) else None  # pyright: ignore[reportUnknownMemberType]
        if not isinstance(jwt, str) or not jwt:
            raise _Refused(
                f"{self.url}/{TOKEN_EXCHANGE} answered without a token",
                "is --service-url the OSMO service's gateway URL?",
            )
        return jwt

    def _get(self, path: str, jwt: str) -> Any:
        return self._send(path, None, jwt, f"GET {path}")

    def _send(self, path: str, payload: Any, jwt: str | None, what: str) -> Any:
        url = f"{self.url.rstrip('/')}/{path}"
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if jwt is not None:
            request.add_header(AUTH_HEADER, f"Bearer {jwt}")
        try:
            with self.opener(request, TIMEOUT) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            raise _Refused(f"{what}: HTTP {err.code} {_detail(err)}", _fix(err.code)) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise _Refused(
                f"cannot reach {self.url}: {reason}", "check --service-url and the network"
            ) from None
        except ValueError:
            raise _Refused(f"{what}: the answer is not JSON", "is --service-url right?") from None


def _detail(err: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(err.read() or b"null")
    except ValueError:
        return str(err.reason)
    message = body.get("message") if isinstance(body, dict) else None  # pyright: ignore[reportUnknownMemberType]
    return str(message) if isinstance(message, str) else str(err.reason)


def _fix(code: int) -> str:
    if code in (400, 401, 403):
        return "the OSMO access token is not accepted: create one (`osmo token create`)"
    if code == 404:
        return "the service does not know this backend: merge and apply the service values"
    return "see the OSMO service's logs"
