"""Accounts and API keys: the registrar admits parties; everyone can see who they are.

A key is shown once, in the response that creates it, and never again (only its SHA-256
is stored, `ledger.api.accounts`). A key is revoked by the registrar or by its own account;
a revoked key is refused from the next request on, by every worker.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from ledger.api.access import Caller, allow
from ledger.api.accounts import Role
from ledger.api.problems import ApiProblem
from ledger.api.routes.common import api_router, service_of

__all__ = ["router"]

router = api_router(prefix="/v1", tags=["accounts"])

EVERY_ROLE = tuple(Role)
_ACCOUNT = {"accountId": "frenos-bajio.producer", "role": "producer", "party": "frenos-bajio",
            "name": "Frenos del Bajío S.A. de C.V.", "createdAt": "2026-12-01T15:00:00Z"}
_KEY = "tmec_0a1b2c3d4e5f_" + "x" * 43


class NewAccount(BaseModel):
    """A party and the role it acts in."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"role": "producer", "party": "frenos-bajio", "name": "Frenos del Bajío S.A. de C.V."}]})
    role: Role
    party: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class NewKey(BaseModel):
    """A label to recognise the key by (which system or person holds it)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"label": "ERP export job"}]})
    label: str = Field("", max_length=200)


class Revocation(BaseModel):
    """Why the key is withdrawn."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reason": "laptop lost"}]})
    reason: str = Field(min_length=1, max_length=200)


@router.get("/me", summary="The account this key opens",
            responses={200: {"content": {"application/json": {"example": _ACCOUNT}}}})
def me(caller: Caller = allow(*EVERY_ROLE)) -> dict[str, Any]:
    """Who the service thinks you are: account, role, party."""
    return caller.require().to_dict()


@router.get("/accounts", summary="Every account (registrar)",
            responses={200: {"content": {"application/json": {"example": {
                "accounts": [_ACCOUNT]}}}}})
def list_accounts(request: Request, caller: Caller = allow(Role.REGISTRAR)) -> dict[str, Any]:
    """The accounts, in id order."""
    del caller
    return {"accounts": [a.to_dict() for a in service_of(request).accounts.accounts()]}


@router.post("/accounts", status_code=201, summary="Admit a party in a role (registrar)",
             responses={201: {"content": {"application/json": {"example": {
                 "account": _ACCOUNT, "apiKey": _KEY, "keyId": "0a1b2c3d4e5f"}}}}})
def create_account(body: NewAccount, request: Request,
                   caller: Caller = allow(Role.REGISTRAR)) -> dict[str, Any]:
    """A new account and its first API key (shown this once)."""
    del caller
    accounts = service_of(request).accounts
    account = accounts.create_account(body.role, body.party, body.name)
    issued = accounts.issue_key(account.account_id, "first key")
    return {"account": account.to_dict(), "apiKey": issued.key, "keyId": issued.key_id}


@router.post("/accounts/{account_id}/keys", status_code=201, summary="Another API key",
             responses={201: {"content": {"application/json": {"example": {
                 "apiKey": _KEY, "keyId": "0a1b2c3d4e5f"}}}}})
def add_key(account_id: str, body: NewKey, request: Request,
            caller: Caller = allow(*EVERY_ROLE)) -> dict[str, Any]:
    """A new key for your own account (or any account, for the registrar)."""
    account = caller.require()
    if account.role is not Role.REGISTRAR and account.account_id != account_id:
        raise ApiProblem("api.forbidden", "an account adds keys only to itself")
    issued = service_of(request).accounts.issue_key(account_id, body.label)
    return {"apiKey": issued.key, "keyId": issued.key_id}


@router.get("/accounts/{account_id}/keys", summary="An account's keys (never the keys)",
            responses={200: {"content": {"application/json": {"example": {"keys": [{
                "keyId": "0a1b2c3d4e5f", "accountId": "frenos-bajio.producer",
                "label": "first key", "createdAt": "2026-12-01T15:00:00Z",
                "revokedAt": None}]}}}}})
def list_keys(account_id: str, request: Request, caller: Caller = allow(*EVERY_ROLE)
              ) -> dict[str, Any]:
    """Ids, labels and dates of an account's keys."""
    account = caller.require()
    if account.role is not Role.REGISTRAR and account.account_id != account_id:
        raise ApiProblem("api.forbidden", "an account lists only its own keys")
    accounts = service_of(request).accounts
    accounts.account(account_id)
    return {"keys": [k.to_dict() for k in accounts.keys(account_id)]}


@router.post("/keys/{key_id}/revoke", summary="Revoke an API key",
             responses={200: {"content": {"application/json": {"example": {
                 "keyId": "0a1b2c3d4e5f", "revokedAt": "2026-12-01T15:00:00Z"}}}}})
def revoke_key(key_id: str, body: Revocation, request: Request,
               caller: Caller = allow(*EVERY_ROLE)) -> dict[str, Any]:
    """The registrar revokes any key; an account revokes its own."""
    account = caller.require()
    accounts = service_of(request).accounts
    owner = accounts.key_owner(key_id)
    if account.role is not Role.REGISTRAR and owner != account.account_id:
        raise ApiProblem("api.forbidden", "an account revokes only its own keys")
    return {"keyId": key_id, "revokedAt": accounts.revoke_key(key_id, body.reason)}
