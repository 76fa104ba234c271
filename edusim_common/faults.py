"""Fault injection: make a service slow, failing or cut off on chosen routes, on purpose.

Integration developers (and the sync's own tests) set rules through ``/api/v1/faults``: a rule
matches a method and a path pattern (a regular expression), lets ``skip`` matching requests
through first, then applies to ``count`` requests (or forever), each with ``probability``:
added latency, an error status (problem+json), or a dropped connection (the answer stops
half-way). The fault routes themselves and ``/health`` are never affected.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field, field_validator, model_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edusim_common.problems import PROBLEM_RESPONSES, NotFound, problem_response
from edusim_common.types import STRICT_INPUT

EXEMPT = re.compile(r"^/(health$|api/v1/faults)")


class FaultRuleIn(BaseModel):
    """What to break, and how."""

    model_config = STRICT_INPUT

    path: str = Field(
        max_length=200,
        description="Regular expression searched in the path.",
        examples=["^/api/v1/changes"],
    )
    method: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{3,7}$",
        description="HTTP method, any case (`get` is `GET`); null means every method.",
        examples=["GET"],
    )
    latency_ms: int = Field(default=0, ge=0, le=120_000)
    status: int | None = Field(default=None, ge=400, le=599, examples=[503])
    drop: bool = Field(default=False, description="Cut the connection in the middle of the answer.")
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    skip: int = Field(
        default=0, ge=0, le=1_000_000, description="Matching requests let through first."
    )
    count: int | None = Field(
        default=None, ge=1, le=1_000_000, description="Requests to affect; null means forever."
    )

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value is not None else None

    @model_validator(mode="after")
    def _does_something(self) -> FaultRuleIn:
        if not (self.latency_ms or self.status is not None or self.drop):
            raise ValueError(
                "the rule would change nothing: give latency_ms, a status, or drop: true"
            )
        return self

    @field_validator("path")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class FaultRule(FaultRuleIn):
    """A rule and how often it fired."""

    id: int
    fired: int = 0


class FaultRegistry:
    """The rules of one service, safe to use from several threads."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._rng = rng or random.Random()

    def add(self, rule: FaultRuleIn) -> FaultRule:
        """Add a rule."""
        with self._lock:
            created = FaultRule(id=self._next_id, **rule.model_dump())
            self._next_id += 1
            self._rules.append(created)
            return created.model_copy()

    def rules(self) -> list[FaultRule]:
        """Every rule."""
        with self._lock:
            return [rule.model_copy() for rule in self._rules]

    def remove(self, rule_id: int | None = None) -> int:
        """Remove one rule, or all; how many were removed."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if rule_id is not None and r.id != rule_id]
            return before - len(self._rules)

    def match(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any (its counters move)."""
        with self._lock:
            for rule in self._rules:
                if rule.method is not None and rule.method != method:
                    continue
                if not re.search(rule.path, path):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                if self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule.model_copy()
        return None


class FaultInjection:
    """ASGI middleware applying the registry's rules."""

    def __init__(self, app: ASGIApp, registry: FaultRegistry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or EXEMPT.search(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        rule = self.registry.match(scope.get("method", "GET"), scope.get("path", ""))
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if rule.drop:
            await _drop(send)
            return
        if rule.status is not None:
            response = problem_response(
                rule.status,
                "injected-fault",
                "Injected fault",
                f"fault rule {rule.id} answered {rule.status} on purpose",
                scope.get("path"),
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _drop(send: Send) -> None:
    """Promise a body, send part of it, and stop: the client sees the connection cut.

    The answer is left unfinished (``more_body``) rather than ended short of its length: the
    server then closes the connection with one line in its log ("returned without completing
    response"), where ending it short raised in the server, which logged two tracebacks.
    """
    start: Message = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
    }
    await send(start)
    await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})


def faults_router(require_admin: Any) -> APIRouter:
    """``GET/POST/DELETE /faults``: the service token sets and clears the rules."""
    router = APIRouter(
        prefix="/faults", tags=["faults"], dependencies=[Depends(require_admin)],
        responses=PROBLEM_RESPONSES,
    )  # fmt: skip

    @router.get("", summary="List the fault rules")
    def list_rules(request: Request) -> list[FaultRule]:
        return _registry(request).rules()

    @router.post("", status_code=201, summary="Add a fault rule")
    def add_rule(rule: FaultRuleIn, request: Request) -> FaultRule:
        return _registry(request).add(rule)

    @router.delete("", summary="Remove every fault rule")
    def clear(request: Request) -> dict[str, int]:
        return {"removed": _registry(request).remove(None)}

    @router.delete("/{rule_id}", summary="Remove one fault rule")
    def remove(
        rule_id: Annotated[int, Path(ge=1, le=2**31 - 1)], request: Request
    ) -> dict[str, int]:
        if _registry(request).remove(rule_id) == 0:
            raise NotFound(f"no fault rule {rule_id}")
        return {"removed": 1}

    return router


def _registry(request: Request) -> FaultRegistry:
    registry: FaultRegistry = request.app.state.faults
    return registry
