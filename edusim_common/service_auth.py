"""The service-token guard shared by the services' administrative endpoints."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from edusim_common.problems import Unauthorized

#: The ``Authorization: Bearer`` scheme of the service token (documented as such).
service_bearer = HTTPBearer(auto_error=False, description="The service token.")


def require_service_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(service_bearer)],
) -> None:
    """Only a caller holding ``app.state.settings.service_token`` may go on."""
    expected: str = request.app.state.settings.service_token
    if credentials is None or not hmac.compare_digest(
        credentials.credentials.encode(), expected.encode()
    ):
        raise Unauthorized("this operation needs the service token")
