"""The ``/2.0`` API: routes, permissions, request bodies and answers, without any socket code.

:mod:`.server` turns each HTTP request into an :class:`ApiRequest` and writes back the
:class:`ApiResponse`. What this mimics of Bitbucket Cloud (``../shared/bitbucket-api/FACTS.md``,
the API docs in ``../shared/seeds/`` and the official spec):

* ``GET /snippets`` is gone (410, CHANGE-2770); ``POST /snippets`` creates in the caller's workspace.
* Create and update accept ``multipart/related`` (JSON start part + file parts; parts are files
  whether listed in ``files`` or not; on PUT a listed name without a part deletes that file),
  ``multipart/form-data`` (flat ``title``/``is_private``; files only in the field ``file``; on PUT a
  ``files`` field holding a name deletes it) and ``application/json`` (metadata only, ``null``
  deletes a property).
* ``GET`` of a snippet answers JSON, ``multipart/related`` or ``multipart/form-data`` by ``Accept``.
* ``PUT``/``DELETE .../{node_id}`` are compare-and-swap: 405 unless ``node_id`` is HEAD.
* A Free-plan workspace lists 200 with a *string* inside ``values``.
* Private snippets are invisible (404) outside their workspace; only members write (403).
* Order of checks: route (404), credentials (401), method (405), scopes (403), then the resource.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from snippet_daemon.bitbucket.multipart import (
    MultipartError,
    decode_multipart,
    decode_snippet_body,
    parse_header_params,
)

from .accounts import (
    SCOPE_DELETE_SNIPPET,
    SCOPE_READ_SNIPPET,
    SCOPE_READ_USER,
    SCOPE_READ_WORKSPACE,
    SCOPE_WRITE_SNIPPET,
    AccountInfo,
    AuthResult,
    Directory,
    SandboxUser,
    Workspace,
)
from .faults import Faults
from .render import (
    Urls,
    account_json,
    comment_json,
    commit_json,
    content_disposition,
    error_json,
    form_data_body,
    guess_type,
    json_bytes,
    page_json,
    related_body,
    snippet_json,
    workspace_json,
    workspace_owner_json,
)
from .store import CommentRecord, InvalidFiles, SnippetRecord, StaleRevision, Store, check_file_name

__all__ = [
    "FREE_PLAN_MESSAGE",
    "JSON_TYPE",
    "ApiError",
    "ApiRequest",
    "ApiResponse",
    "SnippetsApi",
    "empty_response",
    "json_response",
]

JSON_TYPE = "application/json; charset=utf-8"
EMPTY_TYPE = "text/html; charset=utf-8"  # what Bitbucket sends with its empty 204 and 302 answers
FREE_PLAN_MESSAGE = (
    "A workspace on a Free plan does not support snippets. Upgrade to the Standard plan to use snippets."
)
SNIPPETS_PAGELEN = 30  # seen in real answers
DEFAULT_PAGELEN = 10  # the spec's general default
MAX_PAGELEN = 100
WORKSPACES_PAGELEN = 10  # the API's usual default
# Numbers from a URL or a body must fit the store's 64-bit integers (SQLite raises OverflowError past them);
# page numbers are held far below that so that (page - 1) * pagelen still fits.
MAX_PAGE = 2**31 - 1
MAX_ID = 2**63 - 1
_WWW_AUTHENTICATE = ("WWW-Authenticate", 'Basic realm="Bitbucket.org HTTP"')
_RESPONSE_TYPES = ("application/json", "multipart/related", "multipart/form-data")
_REVISION = re.compile(r"[0-9a-f]{7,40}")
_HEAD_ALIASES = frozenset({"HEAD", "master", "main"})

_READ = frozenset({SCOPE_READ_SNIPPET})
_WRITE = frozenset({SCOPE_READ_SNIPPET, SCOPE_WRITE_SNIPPET})
_DELETE = frozenset({SCOPE_DELETE_SNIPPET})
_USER = frozenset({SCOPE_READ_USER})
_WORKSPACES = frozenset({SCOPE_READ_WORKSPACE})
_NONE: frozenset[str] = frozenset()


@dataclass
class ApiRequest:
    method: str
    path: str  # as received, percent-escapes kept, no query
    segments: list[str]  # decoded path segments after /2.0
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    origin: str  # scheme://host:port the client used, for absolute links
    auth: AuthResult


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, document: Any, headers: Sequence[tuple[str, str]] = ()) -> ApiResponse:
    return ApiResponse(status, json_bytes(document), JSON_TYPE, list(headers))


def empty_response(status: int = 204, headers: Sequence[tuple[str, str]] = ()) -> ApiResponse:
    return ApiResponse(status, b"", EMPTY_TYPE, list(headers))


class ApiError(Exception):
    """An error answer. ``typed=False`` leaves out the top-level ``type``, as some real 404s do."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        detail: Any = None,
        data: Mapping[str, Any] | None = None,
        fields: Mapping[str, Any] | None = None,
        headers: Sequence[tuple[str, str]] = (),
        typed: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.document = error_json(message, detail=detail, data=data, fields=fields)
        if not typed:
            del self.document["type"]
        self.headers = list(headers)

    def response(self) -> ApiResponse:
        return json_response(self.status, self.document, self.headers)


def not_found(message: str = "Resource not found") -> ApiError:
    return ApiError(404, message)


@dataclass(frozen=True)
class _Route:
    handler: Callable[..., ApiResponse]
    scopes: frozenset[str]


@dataclass
class _SnippetInput:
    """What a create/update body asks for; None means "not mentioned, leave alone"."""

    title: str | None = None
    is_private: bool | None = None
    files: dict[str, bytes | None] = field(default_factory=dict)  # None: delete that file


def _negotiate(accept: str | None) -> str:
    for item in (accept or "").split(","):
        mime = item.split(";", 1)[0].strip().lower()
        if mime in _RESPONSE_TYPES:
            return mime
    return "application/json"


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        document = json.loads(body.decode("utf-8"))
    except RecursionError:
        raise ApiError(400, "Malformed JSON body", detail="nested too deeply") from None
    except ValueError as error:  # not UTF-8, not JSON, or an integer over Python's digit limit
        raise ApiError(400, "Malformed JSON body", detail=str(error)) from error
    if not isinstance(document, dict):
        raise ApiError(400, "The JSON body must be an object")
    return document


def _metadata(document: Mapping[str, Any]) -> tuple[str | None, bool | None]:
    """Title and privacy from a JSON document: ``null`` deletes (empty title, public)."""
    fields: dict[str, list[str]] = {}
    title: str | None = None
    is_private: bool | None = None
    if "title" in document:
        value = document["title"]
        if value is None or isinstance(value, str):
            title = value or ""
        else:
            fields["title"] = ["expected a string"]
    if "is_private" in document:
        value = document["is_private"]
        if value is None or isinstance(value, bool):
            is_private = bool(value)
        else:
            fields["is_private"] = ["expected a boolean"]
    if document.get("scm") not in (None, "git"):
        fields["scm"] = ["only git is supported"]
    if fields:
        raise ApiError(400, "Bad request", fields=fields)
    return title, is_private


def _form_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off", ""):
        return False
    raise ApiError(400, "Bad request", fields={"is_private": ["expected true or false"]})


def _form_text(content: bytes, name: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, "Bad request", fields={name: ["not valid UTF-8"]}) from error


def _closed_multipart(body: bytes, content_type: str) -> bytes:
    """Tolerate a body whose last delimiter lacks its closing ``--`` (as in the API docs' own example)."""
    boundary = parse_header_params(content_type)[1].get("boundary")
    if not boundary or not boundary.isascii():
        return body  # the decoder explains what is wrong with the boundary
    delimiter = b"--" + boundary.encode("ascii")
    if delimiter + b"--" in body:
        return body
    stripped = body.rstrip(b"\r\n\t ")
    return stripped + b"--\r\n" if stripped.endswith(delimiter) else body


def _query_int(request: ApiRequest, name: str, default: int) -> int:
    values = request.query.get(name)
    if not values or values[-1] == "":
        return default
    text = values[-1]
    try:
        if len(text) > 20:  # past any 64-bit number: no need to convert it to know
            raise ValueError(text)
        return int(text)
    except ValueError as error:
        raise ApiError(400, f"Invalid {name}: {text[:40]!r}") from error


def _id_number(text: str) -> int | None:
    """An id from a URL (``comments/{id}``): None when it is no id the store could hold."""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if number <= MAX_ID else None


class SnippetsApi:
    """Answers ``/2.0`` requests from a :class:`Store` and a :class:`Directory`."""

    def __init__(self, store: Store, directory: Directory, faults: Faults | None = None) -> None:
        self.store = store
        self.directory = directory
        self.faults = faults

    # ------------------------------------------------------------------ dispatch

    def handle(self, request: ApiRequest) -> ApiResponse:
        try:
            return self._dispatch(request)
        except ApiError as error:
            return error.response()

    def _dispatch(self, request: ApiRequest) -> ApiResponse:
        matched = self._match(request.segments)
        if matched is None:
            raise not_found()
        routes, args = matched
        user = request.auth.user
        if user is None:
            raise ApiError(401, request.auth.error or "Unauthorized", headers=[_WWW_AUTHENTICATE])
        route = routes.get("GET" if request.method == "HEAD" else request.method)
        if route is None:
            allowed = ", ".join(sorted(routes))
            raise ApiError(405, f"Method {request.method} not allowed", headers=[("Allow", allowed)])
        if not route.scopes <= user.granted_scopes:
            raise ApiError(
                403,
                "Your credentials lack one or more required privilege scopes.",
                detail={"granted": sorted(user.scopes), "required": sorted(route.scopes)},
            )
        return route.handler(request, user, *args)

    def _match(self, segments: list[str]) -> tuple[dict[str, _Route], tuple[Any, ...]] | None:
        s = segments[:-1] if len(segments) > 1 and segments[-1] == "" else segments
        n = len(s)
        if s == ["user"]:
            return {"GET": _Route(self.get_user, _USER)}, ()
        if n == 2 and s[0] == "users":
            return {"GET": _Route(self.get_account, _USER)}, (s[1],)
        if s == ["user", "workspaces"]:
            return {"GET": _Route(self.list_user_workspaces, _WORKSPACES)}, ()
        if s == ["workspaces"]:
            return {"GET": _Route(self.list_removed_workspaces, _NONE)}, ()
        if not s or s[0] != "snippets":
            return None
        if n == 1:
            return {"GET": _Route(self.list_removed, _NONE), "POST": _Route(self.create_snippet, _WRITE)}, (None,)
        if n == 2:
            return {"GET": _Route(self.list_snippets, _READ), "POST": _Route(self.create_snippet, _WRITE)}, (s[1],)
        ws, sid, rest = s[1], s[2], s[3:]
        snippet_routes = {
            "GET": _Route(self.get_snippet, _READ),
            "PUT": _Route(self.put_snippet, _WRITE),
            "DELETE": _Route(self.delete_snippet, _DELETE),
        }
        if not rest:
            return snippet_routes, (ws, sid, None)
        head, tail = rest[0], rest[1:]
        if head == "files" and tail:
            return {"GET": _Route(self.redirect_file, _READ)}, (ws, sid, "/".join(tail))
        if head == "comments" and not tail:
            return {"GET": _Route(self.list_comments, _READ), "POST": _Route(self.create_comment, _WRITE)}, (ws, sid)
        if head == "comments" and len(tail) == 1:
            return {
                "GET": _Route(self.get_comment, _READ),
                "PUT": _Route(self.put_comment, _WRITE),
                "DELETE": _Route(self.delete_comment, _WRITE),
            }, (ws, sid, tail[0])
        if head == "commits" and not tail:
            return {"GET": _Route(self.list_commits, _READ)}, (ws, sid)
        if head == "commits" and len(tail) == 1:
            return {"GET": _Route(self.get_commit, _READ)}, (ws, sid, tail[0])
        if head == "watch" and not tail:
            return {
                "GET": _Route(self.get_watch, _READ),
                "PUT": _Route(self.put_watch, _WRITE),
                "DELETE": _Route(self.delete_watch, _WRITE),
            }, (ws, sid)
        if head == "watchers" and not tail:
            return {"GET": _Route(self.list_watchers, _READ)}, (ws, sid)
        if not tail:
            return snippet_routes, (ws, sid, head)
        if tail == ["diff"]:
            return {"GET": _Route(self.get_diff, _READ)}, (ws, sid, head)
        if tail == ["patch"]:
            return {"GET": _Route(self.get_patch, _READ)}, (ws, sid, head)
        if tail[0] == "files" and len(tail) > 1:
            return {"GET": _Route(self.get_file, _READ)}, (ws, sid, head, "/".join(tail[1:]))
        return None

    # ------------------------------------------------------------------ helpers

    def _workspace(self, selector: str) -> Workspace:
        workspace = self.directory.workspace(selector)
        if workspace is None:
            raise not_found(f"No workspace with identifier '{selector}'.")
        return workspace

    def _visible(self, user: SandboxUser, ws_selector: str, snippet_id: str) -> tuple[Workspace, SnippetRecord]:
        workspace = self._workspace(ws_selector)
        record = self.store.get_snippet(workspace.slug, snippet_id)
        if record is None or (record.is_private and not workspace.is_member(user)):
            raise not_found()
        return workspace, record

    @staticmethod
    def _require_member(workspace: Workspace, user: SandboxUser) -> None:
        if not workspace.is_member(user):
            raise ApiError(403, f"You do not have write access to snippets in the workspace '{workspace.slug}'.")

    def _revision(self, record: SnippetRecord, node: str, *, refs: bool = False) -> str:
        """A commit of this snippet named by full hash or unique prefix (>= 7 hex digits)."""
        if refs and node in _HEAD_ALIASES:
            return record.head
        wanted = node.lower()
        if _REVISION.fullmatch(wanted):
            matches = [info.sha for info in self.store.git.history(record.head) if info.sha.startswith(wanted)]
            if len(matches) == 1:
                return matches[0]
        raise not_found(f"Revision not found: {node}")

    def _stale(self, head: str) -> ApiError:
        return ApiError(
            405,
            "That revision is not the snippet's latest: update or delete against HEAD.",
            detail=f"The snippet's HEAD is {head}.",
            data={"head": head},
            headers=[("Allow", "GET")],
        )

    def _account_info(self, nickname: str) -> AccountInfo:
        user = self.directory.user(nickname)
        if user is not None:
            return user.account
        return self.store.account(nickname) or AccountInfo(nickname, nickname, "{}", "")

    def _account(self, nickname: str, urls: Urls) -> dict[str, Any]:
        return account_json(self._account_info(nickname), urls)

    def _owner(self, workspace: Workspace, urls: Urls) -> dict[str, Any]:
        if workspace.personal_of is not None:
            return self._account(workspace.personal_of, urls)
        return workspace_owner_json(workspace, urls)

    def _snippet_doc(
        self,
        workspace: Workspace,
        record: SnippetRecord,
        urls: Urls,
        *,
        files: Sequence[str] | None,
        revision: str | None = None,
    ) -> dict[str, Any]:
        return snippet_json(
            record,
            owner=self._owner(workspace, urls),
            creator=self._account(record.creator, urls),
            urls=urls,
            files=files,
            revision=revision,
        )

    def _snippet_response(
        self,
        request: ApiRequest,
        workspace: Workspace,
        record: SnippetRecord,
        status: int,
        revision: str | None = None,
    ) -> ApiResponse:
        urls = Urls(request.origin)
        listing = self.store.git.files(revision or record.head)
        document = self._snippet_doc(workspace, record, urls, files=list(listing), revision=revision)
        kind = _negotiate(request.headers.get("accept"))
        if kind == "application/json":
            return json_response(status, document)
        contents = {name: self.store.git.blob(sha) for name, sha in listing.items()}
        if kind == "multipart/related":
            body, content_type = related_body(document, contents)
        else:
            flat = {
                "type": "snippet",
                "id": record.id,
                "title": record.title,
                "scm": "git",
                "created_on": record.created_on,
                "updated_on": record.updated_on,
                "is_private": "true" if record.is_private else "false",
            }
            body, content_type = form_data_body(flat, contents)
        return ApiResponse(status, body, content_type, [("MIME-Version", "1.0")])

    def _paging(self, request: ApiRequest, default: int) -> tuple[int, int]:
        page = _query_int(request, "page", 1)
        pagelen = _query_int(request, "pagelen", default)
        if not 1 <= page <= MAX_PAGE:
            raise ApiError(400, f"Invalid page: {page}", detail=f"page must be between 1 and {MAX_PAGE}.")
        if pagelen < 1:
            raise ApiError(400, f"Invalid pagelen: {pagelen}")
        return page, min(pagelen, MAX_PAGELEN)

    def _page(self, request: ApiRequest, values: Sequence[Any], page: int, pagelen: int, total: int) -> dict[str, Any]:
        def url(number: int) -> str:
            query = {**request.query, "page": [str(number)]}
            return f"{request.origin}{request.path}?{urllib.parse.urlencode(query, doseq=True)}"

        return page_json(
            values,
            page=page,
            pagelen=pagelen,
            size=total,
            next_url=url(page + 1) if page * pagelen < total else None,
            previous_url=url(page - 1) if page > 1 else None,
        )

    def _snippet_input(self, request: ApiRequest, *, update: bool) -> _SnippetInput:
        content_type = request.headers.get("content-type", "")
        mime, _ = parse_header_params(content_type)
        body = request.body
        result = _SnippetInput()
        if not mime and not body.strip():
            return result
        if mime == "application/json" or mime.endswith("+json"):
            # JSON cannot carry file contents: metadata only, a "files" member is ignored.
            result.title, result.is_private = _metadata(_json_object(body))
        elif mime == "application/x-www-form-urlencoded":
            fields = urllib.parse.parse_qs(_form_text(body, "body"), keep_blank_values=True)
            if "title" in fields:
                result.title = fields["title"][-1]
            if "is_private" in fields:
                result.is_private = _form_bool(fields["is_private"][-1])
        elif mime == "multipart/related":
            try:
                metadata, file_parts = decode_snippet_body(_closed_multipart(body, content_type), content_type)
            except MultipartError as error:
                raise ApiError(400, "Malformed multipart body", detail=str(error)) from error
            result.title, result.is_private = _metadata(metadata)
            listed = metadata.get("files")
            if listed is not None and not isinstance(listed, dict):
                raise ApiError(400, "Bad request", fields={"files": ["expected an object keyed by file name"]})
            result.files.update(file_parts)
            if update:
                for name in listed or {}:
                    result.files.setdefault(name, None)
        elif mime == "multipart/form-data":
            try:
                parts = decode_multipart(_closed_multipart(body, content_type), content_type)
            except MultipartError as error:
                raise ApiError(400, "Malformed multipart body", detail=str(error)) from error
            deletions: list[str] = []
            for part in parts:
                name = part.form_name
                if name == "file" and part.filename:
                    result.files[part.filename] = part.content
                elif name == "title":
                    result.title = _form_text(part.content, "title")
                elif name == "is_private":
                    result.is_private = _form_bool(_form_text(part.content, "is_private"))
                elif name == "scm" and _form_text(part.content, "scm").strip() not in ("", "git"):
                    raise ApiError(400, "Bad request", fields={"scm": ["only git is supported"]})
                elif name == "files" and update and not part.filename:
                    deletions += [line.strip() for line in _form_text(part.content, "files").splitlines()]
                # Any other field is dropped without a word, as Bitbucket does.
            for name in deletions:
                if name:
                    result.files.setdefault(name, None)
        else:
            raise ApiError(
                400,
                f"Unsupported Content-Type: {mime or 'none'}",
                detail="Use application/json, multipart/related or multipart/form-data.",
            )
        problems = {name: check_file_name(name) for name in result.files}
        invalid = [f"{name!r}: {problem}" for name, problem in problems.items() if problem]
        if invalid:
            raise ApiError(400, "Bad request", fields={"files": invalid})
        return result

    # ------------------------------------------------------------------ accounts

    def get_user(self, request: ApiRequest, user: SandboxUser) -> ApiResponse:
        urls = Urls(request.origin)
        document = account_json(user.account, urls)
        document["account_status"] = "active"
        document["links"]["snippets"] = {"href": f"{urls.api}/snippets/{urllib.parse.quote(user.nickname)}"}
        return json_response(200, document)

    def get_account(self, request: ApiRequest, user: SandboxUser, selector: str) -> ApiResponse:
        found = self.directory.user_by_selector(selector)
        if found is None:
            raise not_found(f"{selector} is not a valid user UUID or account id.")
        return json_response(200, account_json(found.account, Urls(request.origin)))

    def list_user_workspaces(self, request: ApiRequest, user: SandboxUser) -> ApiResponse:
        """``GET /user/workspaces``: workspace access objects that wrap each workspace (CHANGE-3022)."""
        page, pagelen = self._paging(request, WORKSPACES_PAGELEN)
        urls = Urls(request.origin)
        visible = self.directory.workspaces_of(user)
        values = [
            {
                "type": "workspace_access",
                "administrator": workspace.is_admin(user),
                "workspace": workspace_json(workspace, urls),
            }
            for workspace in visible[(page - 1) * pagelen : page * pagelen]
        ]
        return json_response(200, self._page(request, values, page, pagelen, len(visible)))

    def list_removed_workspaces(self, request: ApiRequest, user: SandboxUser) -> ApiResponse:
        raise ApiError(
            410,
            "CHANGE-2770 - Functionality has been deprecated",
            detail="List the workspaces you can see with GET /2.0/user/workspaces.",
        )

    # ------------------------------------------------------------------ snippets

    def list_removed(self, request: ApiRequest, user: SandboxUser, _: None) -> ApiResponse:
        raise ApiError(
            410,
            "CHANGE-2770 - Functionality has been deprecated",
            detail="List snippets per workspace: GET /2.0/snippets/{workspace}.",
        )

    def list_snippets(self, request: ApiRequest, user: SandboxUser, ws_selector: str) -> ApiResponse:
        workspace = self._workspace(ws_selector)
        page, pagelen = self._paging(request, SNIPPETS_PAGELEN)
        if workspace.free_plan:
            return json_response(
                200, page_json([FREE_PLAN_MESSAGE], page=1, pagelen=pagelen, size=1, next_url=None, previous_url=None)
            )
        roles = request.query.get("role")
        role = roles[-1] if roles else None
        if role not in (None, "", "owner", "contributor", "member"):
            raise ApiError(400, f"Invalid role: {role}", fields={"role": ["owner, contributor or member"]})
        member = workspace.is_member(user)
        total, records = self.store.list_snippets(
            workspace.slug,
            public_only=not member,
            creator=user.nickname if role == "owner" else None,
            involving=user.nickname if role == "contributor" else None,
            watched_by=user.nickname if role == "member" and not member else None,
            oldest_first=bool(self.faults and self.faults.ignore_sort),
            limit=pagelen,
            offset=(page - 1) * pagelen,
        )
        urls = Urls(request.origin)
        values = [
            self._snippet_doc(workspace, record, urls, files=list(self.store.git.files(record.head)))
            for record in records
        ]
        return json_response(200, self._page(request, values, page, pagelen, total))

    def create_snippet(self, request: ApiRequest, user: SandboxUser, ws_selector: str | None) -> ApiResponse:
        workspace = self._workspace(ws_selector if ws_selector is not None else user.nickname)
        if workspace.free_plan:
            raise ApiError(403, FREE_PLAN_MESSAGE)
        self._require_member(workspace, user)
        wanted = self._snippet_input(request, update=False)
        files = {name: content for name, content in wanted.files.items() if content is not None}
        try:
            record = self.store.create_snippet(
                workspace.slug, user, title=wanted.title or "", is_private=bool(wanted.is_private), files=files
            )
        except InvalidFiles as error:
            raise ApiError(400, "Bad request", fields={"files": [str(error)]}) from error
        response = self._snippet_response(request, workspace, record, 201)
        response.headers.append(("Location", Urls(request.origin).snippet(workspace.slug, record.id)))
        return response

    def get_snippet(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, node: str | None
    ) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        revision = self._revision(record, node) if node is not None else None
        return self._snippet_response(request, workspace, record, 200, revision)

    def put_snippet(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, node: str | None
    ) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        expected = self._revision(record, node) if node is not None else None
        self._require_member(workspace, user)
        if expected is not None and expected != record.head:
            raise self._stale(record.head)
        wanted = self._snippet_input(request, update=True)
        try:
            record = self.store.update_snippet(
                workspace.slug,
                record.id,
                user,
                title=wanted.title,
                is_private=wanted.is_private,
                changes=wanted.files,
                expected_head=expected,
            )
        except StaleRevision as stale:
            raise self._stale(stale.head) from stale
        except KeyError as error:
            raise not_found() from error
        except InvalidFiles as error:
            raise ApiError(400, "Bad request", fields={"files": [str(error)]}) from error
        return self._snippet_response(request, workspace, record, 200)

    def delete_snippet(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, node: str | None
    ) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        expected = self._revision(record, node) if node is not None else None
        self._require_member(workspace, user)
        try:
            self.store.delete_snippet(workspace.slug, record.id, expected_head=expected)
        except StaleRevision as stale:
            raise self._stale(stale.head) from stale
        except KeyError as error:
            raise not_found() from error
        return empty_response()

    # ------------------------------------------------------------------ files, diffs, commits

    def redirect_file(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, path: str
    ) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        if path not in self.store.git.files(record.head):
            raise ApiError(404, f"File not found: {path}", typed=False)
        location = Urls(request.origin).file(workspace.slug, record.id, record.head, path)
        return empty_response(302, [("Location", location)])

    def get_file(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, node: str, path: str
    ) -> ApiResponse:
        _, record = self._visible(user, ws_selector, snippet_id)
        revision = self._revision(record, node, refs=True)
        blob = self.store.git.files(revision).get(path)
        if blob is None:
            raise ApiError(404, f"File not found: {path}", typed=False)
        content = self.store.git.blob(blob)
        disposition = content_disposition("attachment", path.rsplit("/", 1)[-1])
        return ApiResponse(200, content, guess_type(path, content), [("Content-Disposition", disposition)])

    def _revspec(self, record: SnippetRecord, spec: str) -> tuple[str | None, str]:
        if ".." in spec:
            old, _, new = spec.partition("..")
            return self._revision(record, old, refs=True), self._revision(record, new, refs=True)
        sha = self._revision(record, spec, refs=True)
        parents = self.store.git.commit_info(sha).parents
        return (parents[0] if parents else None), sha

    def get_diff(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, spec: str
    ) -> ApiResponse:
        _, record = self._visible(user, ws_selector, snippet_id)
        old, new = self._revspec(record, spec)
        path = (request.query.get("path") or [""])[-1]
        if "\0" in path:  # no file has it, and git cannot be given it
            raise ApiError(400, "Invalid path", fields={"path": ["a path cannot contain NUL"]})
        return ApiResponse(200, self.store.git.diff(old, new, path or None), "text/plain")

    def get_patch(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, spec: str
    ) -> ApiResponse:
        _, record = self._visible(user, ws_selector, snippet_id)
        if ".." in spec:
            old, new = self._revspec(record, spec)
            body = self.store.git.format_patch(new, since=old)
        else:
            body = self.store.git.format_patch(self._revision(record, spec, refs=True))
        return ApiResponse(200, body, "text/plain")

    def _commit_doc(self, workspace: Workspace, record: SnippetRecord, sha: str, urls: Urls) -> dict[str, Any]:
        commit = self.store.git.commit_info(sha)
        author_user = self.directory.user_by_email(commit.author_email)
        author_info = author_user.account if author_user else self.store.account_by_email(commit.author_email)
        return commit_json(
            commit,
            record,
            author=account_json(author_info, urls) if author_info else None,
            snippet=self._snippet_doc(workspace, record, urls, files=None),
            urls=urls,
        )

    def list_commits(self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        page, pagelen = self._paging(request, DEFAULT_PAGELEN)
        history = self.store.git.history(record.head)
        chosen = history[(page - 1) * pagelen : page * pagelen]
        urls = Urls(request.origin)
        values = [self._commit_doc(workspace, record, info.sha, urls) for info in chosen]
        return json_response(200, self._page(request, values, page, pagelen, len(history)))

    def get_commit(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, revision: str
    ) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        sha = self._revision(record, revision, refs=True)
        return json_response(200, self._commit_doc(workspace, record, sha, Urls(request.origin)))

    # ------------------------------------------------------------------ comments

    def _comment_doc(
        self, workspace: Workspace, record: SnippetRecord, comment: CommentRecord, urls: Urls
    ) -> dict[str, Any]:
        return comment_json(
            comment,
            record,
            user=self._account(comment.author, urls),
            snippet=self._snippet_doc(workspace, record, urls, files=None),
            urls=urls,
        )

    @staticmethod
    def _comment_raw(document: Mapping[str, Any]) -> str:
        content = document.get("content")
        raw = content.get("raw") if isinstance(content, dict) else None
        if not isinstance(raw, str) or not raw.strip():
            raise ApiError(400, "Bad request", fields={"content.raw": ["This field is required."]})
        return raw

    def _comment(self, record: SnippetRecord, comment_id: str) -> CommentRecord:
        number = _id_number(comment_id)
        comment = self.store.get_comment(record.id, number) if number is not None else None
        if comment is None:
            raise not_found()
        return comment

    def list_comments(self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        page, pagelen = self._paging(request, DEFAULT_PAGELEN)
        total, comments = self.store.list_comments(record.id, limit=pagelen, offset=(page - 1) * pagelen)
        urls = Urls(request.origin)
        values = [self._comment_doc(workspace, record, comment, urls) for comment in comments]
        return json_response(200, self._page(request, values, page, pagelen, total))

    def create_comment(self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        document = _json_object(request.body)
        raw = self._comment_raw(document)
        parent_id: int | None = None
        parent = document.get("parent")
        if parent is not None:
            candidate = parent.get("id") if isinstance(parent, dict) else None
            if isinstance(candidate, bool) or not isinstance(candidate, int) or not 0 < candidate <= MAX_ID:
                raise ApiError(400, "Bad request", fields={"parent.id": ["expected a comment id"]})
            if self.store.get_comment(record.id, candidate) is None:
                raise ApiError(400, "Bad request", fields={"parent": [f"no comment {candidate} on this snippet"]})
            parent_id = candidate
        comment = self.store.add_comment(record.id, user.nickname, raw, parent_id)
        urls = Urls(request.origin)
        return json_response(
            201,
            self._comment_doc(workspace, record, comment, urls),
            [("Location", urls.comment(workspace.slug, record.id, comment.id))],
        )

    def get_comment(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, comment_id: str
    ) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        comment = self._comment(record, comment_id)
        return json_response(200, self._comment_doc(workspace, record, comment, Urls(request.origin)))

    def put_comment(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, comment_id: str
    ) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        comment = self._comment(record, comment_id)
        if comment.author != user.nickname:
            raise ApiError(403, "Only the author of a comment can edit it.")
        raw = self._comment_raw(_json_object(request.body))
        comment = self.store.update_comment(record.id, comment.id, raw)
        return json_response(200, self._comment_doc(workspace, record, comment, Urls(request.origin)))

    def delete_comment(
        self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str, comment_id: str
    ) -> ApiResponse:
        workspace, record = self._visible(user, ws_selector, snippet_id)
        comment = self._comment(record, comment_id)
        allowed = user.nickname in (comment.author, record.creator) or workspace.is_admin(user)
        if not allowed:
            raise ApiError(
                403, "Comments can only be removed by their author, the snippet's creator or a workspace admin."
            )
        self.store.delete_comment(record.id, comment.id)
        return empty_response()

    # ------------------------------------------------------------------ watching

    def get_watch(self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str) -> ApiResponse:
        _, record = self._visible(user, ws_selector, snippet_id)
        if not self.store.is_watching(record.id, user.nickname):
            raise not_found("You are not watching this snippet.")
        return empty_response()

    def put_watch(self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str) -> ApiResponse:
        _, record = self._visible(user, ws_selector, snippet_id)
        self.store.watch(record.id, user.nickname)
        return empty_response()

    def delete_watch(self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str) -> ApiResponse:
        _, record = self._visible(user, ws_selector, snippet_id)
        self.store.unwatch(record.id, user.nickname)
        return empty_response()

    def list_watchers(self, request: ApiRequest, user: SandboxUser, ws_selector: str, snippet_id: str) -> ApiResponse:
        _, record = self._visible(user, ws_selector, snippet_id)
        page, pagelen = self._paging(request, DEFAULT_PAGELEN)
        total, nicknames = self.store.watchers(record.id, limit=pagelen, offset=(page - 1) * pagelen)
        urls = Urls(request.origin)
        values = [self._account(nickname, urls) for nickname in nicknames]
        return json_response(200, self._page(request, values, page, pagelen, total))
