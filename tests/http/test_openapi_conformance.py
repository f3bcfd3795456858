"""openapi/openapi.json against the running depotd: served as is, every route routed, bodies valid.

Self-contained on purpose: it starts its own depotd (env DEPOTD, default build/depotd) on a free
port with an HS256 secret, mints its own tokens with PyJWT, and uses none of conftest's fixtures.
Response bodies are checked with jsonschema (Debian: python3-jsonschema) when it is installed,
else with the small checker below, which knows the keywords the document uses.
"""

import base64
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid

import jwt
import pytest
import requests

from depot_helpers import Origin, backend_env

try:
    if os.environ.get("DEPOT_CONFORMANCE_NO_JSONSCHEMA"):
        raise ImportError("disabled by DEPOT_CONFORMANCE_NO_JSONSCHEMA")
    import jsonschema
except ImportError:  # the hand-written checker below is used instead
    jsonschema = None

REPO = pathlib.Path(__file__).resolve().parents[2]
DOC_FILE = REPO / "openapi" / "openapi.json"
DEPOTD = os.environ.get("DEPOTD", str(REPO / "build" / "depotd"))
SECRET = "openapi-conformance-secret-0123456789abcdef0123"
HTTP_TIMEOUT = 10  # seconds, every request
START_TIMEOUT = 10  # seconds for GET /healthz to answer 200
STOP_TIMEOUT = 15  # seconds for a clean exit after SIGTERM
ACCOUNT = "acct-openapi-" + uuid.uuid4().hex[:12]

HTTP_METHODS = ["get", "head", "post", "put", "patch", "delete", "options", "trace"]
PROBE_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
PUBLIC_PATHS = {"/healthz", "/openapi.json"}
SIGNED_PATHS = {"/v1/uploads/{id}", "/v1/signed/{id}/content",  # no JWT: acct/expires/sig
                "/api/resources/{id}/upload"}
# Routes whose {id} is a numeric id: the dialects' resources, and folders.
NUMERIC_PATHS = {"/api/resources/{id}", "/api/resources/{id}/upload", "/api/v1/global_resources/{id}",
                 "/v1/folders/{id}"}


# ---------------------------------------------------------------- the document


def load_doc():
    with open(DOC_FILE, encoding="utf-8") as f:
        return json.load(f)


DOC = load_doc()


def operations(doc):
    """[(path template, lower-case method, operation object)] in document order."""
    out = []
    for path, item in doc["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                out.append((path, method, item[method]))
    return out


OPS = operations(DOC)
OP_IDS = ["%s %s" % (m.upper(), p) for p, m, _ in OPS]


def resolve(doc, node):
    """Follow local `$ref`s (#/a/b) until a node without one."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ptr = node["$ref"]
        assert ptr.startswith("#/"), "non-local $ref %r" % ptr
        node = doc
        for part in ptr[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        assert seen < 50, "$ref loop at %r" % ptr
    return node


def all_refs(node, acc):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                acc.append(v)
            else:
                all_refs(v, acc)
    elif isinstance(node, list):
        for v in node:
            all_refs(v, acc)
    return acc


def template_regex(template):
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


def match_template(doc, path):
    """The document's path template matching a concrete path, or None."""
    for template in doc["paths"]:
        if template_regex(template).match(path):
            return template
    return None


def documented_response(doc, path, method, status):
    op = doc["paths"][path][method.lower()]
    r = op["responses"].get(str(status))
    if r is None:
        r = op["responses"].get("%sXX" % str(status)[0], op["responses"].get("default"))
    return None if r is None else resolve(doc, r)


# ---------------------------------------------------------------- schema checking


def _type_ok(t, v):
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, list)
    if t == "object":
        return isinstance(v, dict)
    raise AssertionError("unknown type %r" % t)


def mini_validate(doc, schema, v, where="$"):
    """A small JSON Schema checker for the keywords openapi.json uses; returns error strings."""
    if schema is True or schema == {}:
        return []
    if schema is False:
        return ["%s: false schema" % where]
    errs = []
    if "$ref" in schema:
        errs += mini_validate(doc, resolve(doc, {"$ref": schema["$ref"]}), v, where)
    for sub in schema.get("allOf", []):
        errs += mini_validate(doc, sub, v, where)
    if "anyOf" in schema and not any(not mini_validate(doc, s, v, where) for s in schema["anyOf"]):
        errs.append("%s: matches no anyOf branch" % where)
    if "oneOf" in schema:
        n = sum(1 for s in schema["oneOf"] if not mini_validate(doc, s, v, where))
        if n != 1:
            errs.append("%s: matches %d oneOf branches" % (where, n))
    if "not" in schema and not mini_validate(doc, schema["not"], v, where):
        errs.append("%s: matches a `not` schema" % where)
    if "if" in schema:
        branch = "then" if not mini_validate(doc, schema["if"], v, where) else "else"
        if branch in schema:
            errs += mini_validate(doc, schema[branch], v, where)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(t, v) for t in types):
            return errs + ["%s: %r is not of type %s" % (where, v, types)]
    if "enum" in schema and v not in schema["enum"]:
        errs.append("%s: %r not in %r" % (where, v, schema["enum"]))
    if "const" in schema and v != schema["const"]:
        errs.append("%s: %r != %r" % (where, v, schema["const"]))
    if isinstance(v, str):
        if len(v) < schema.get("minLength", 0):
            errs.append("%s: shorter than %d" % (where, schema["minLength"]))
        if "maxLength" in schema and len(v) > schema["maxLength"]:
            errs.append("%s: longer than %d" % (where, schema["maxLength"]))
        if "pattern" in schema and not re.search(schema["pattern"], v):
            errs.append("%s: %r does not match %r" % (where, v, schema["pattern"]))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in schema and v < schema["minimum"]:
            errs.append("%s: %r < %r" % (where, v, schema["minimum"]))
        if "maximum" in schema and v > schema["maximum"]:
            errs.append("%s: %r > %r" % (where, v, schema["maximum"]))
    if isinstance(v, list):
        if len(v) < schema.get("minItems", 0):
            errs.append("%s: fewer than %d items" % (where, schema["minItems"]))
        if "maxItems" in schema and len(v) > schema["maxItems"]:
            errs.append("%s: more than %d items" % (where, schema["maxItems"]))
        if schema.get("uniqueItems") and len({json.dumps(x, sort_keys=True) for x in v}) != len(v):
            errs.append("%s: items not unique" % where)
        if "items" in schema:
            for i, x in enumerate(v):
                errs += mini_validate(doc, schema["items"], x, "%s[%d]" % (where, i))
    if isinstance(v, dict):
        for name in schema.get("required", []):
            if name not in v:
                errs.append("%s: required property %r missing" % (where, name))
        props = schema.get("properties", {})
        for k, x in v.items():
            if k in props:
                errs += mini_validate(doc, props[k], x, "%s.%s" % (where, k))
            elif schema.get("additionalProperties") is False:
                errs.append("%s: unexpected property %r" % (where, k))
            elif isinstance(schema.get("additionalProperties"), dict):
                errs += mini_validate(doc, schema["additionalProperties"], x, "%s.%s" % (where, k))
    return errs


def schema_errors(doc, schema, instance):
    """Errors of `instance` against `schema`, whose $refs point into the document."""
    if jsonschema is None:
        return mini_validate(doc, schema, instance)
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    }
    validator = jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "$", e.message)
            for e in validator.iter_errors(instance)]


def named_schema(name):
    return {"$ref": "#/components/schemas/%s" % name}


def assert_matches_document(resp, path, method, what=""):
    """The status is documented for the operation, and the body and headers match it."""
    label = "%s %s %s" % (method.upper(), path, what)
    doc_resp = documented_response(DOC, path, method, resp.status_code)
    assert doc_resp is not None, "%s: answered %d, which the document does not list (%s); body %r" % (
        label, resp.status_code, sorted(DOC["paths"][path][method.lower()]["responses"]), resp.text[:300])
    for hname, hdef in doc_resp.get("headers", {}).items():
        hdef = resolve(DOC, hdef)
        if hname.lower() == "content-length" and method.lower() == "head":
            continue  # HEAD may omit or keep it; not a conformance matter
        assert hname in resp.headers, "%s %d: documented header %s missing" % (label, resp.status_code, hname)
        value = resp.headers[hname]
        hs = hdef.get("schema", {})
        if resolve(DOC, hs).get("type") == "integer":
            assert re.fullmatch(r"[0-9]+", value), "%s: header %s=%r is not an integer" % (label, hname, value)
            value = int(value)
        errs = schema_errors(DOC, hs, value)
        assert not errs, "%s: header %s=%r: %s" % (label, hname, resp.headers[hname], errs)
    if method.lower() == "head":
        assert resp.content == b"", "%s: HEAD answered with a body" % label
        return None
    content = doc_resp.get("content")
    if not content:
        assert resp.content == b"", "%s %d: documented without a body, got %r" % (
            label, resp.status_code, resp.content[:200])
        return None
    if "application/json" in content:
        ctype = resp.headers.get("Content-Type", "")
        assert ctype.split(";")[0].strip().lower() == "application/json", (
            "%s %d: Content-Type %r, documented application/json" % (label, resp.status_code, ctype))
        try:
            body = resp.json()
        except ValueError:
            raise AssertionError("%s %d: body is not JSON: %r" % (label, resp.status_code, resp.text[:300]))
        schema = content["application/json"].get("schema", {})
        errs = schema_errors(DOC, schema, body)
        assert not errs, "%s %d: body does not match the document: %s\nbody: %s" % (
            label, resp.status_code, errs[:10], json.dumps(body)[:1000])
        return body
    return resp.content


# ---------------------------------------------------------------- the server


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Depot:
    def __init__(self, base, proc, log_path):
        self.base = base
        self.proc = proc
        self.log_path = log_path

    def log_tail(self, n=4000):
        try:
            return pathlib.Path(self.log_path).read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def request(self, method, path, token=None, json_body=None, data=None, headers=None, params=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        url = path if path.startswith(("http://", "https://")) else self.base + path
        return requests.request(method, url, headers=h, json=json_body, data=data,
                                params=params, timeout=HTTP_TIMEOUT, allow_redirects=False)


# The refresh route needs a resource from external storage: an Origin configured as an Azure
# Blob emulator (an IP literal, so the address rules let depotd reach it) serves one blob. It
# sends no ETag, so every refresh copies.
EXTERNAL_BLOB = "/acct/openapi/blob.txt"


def start_depot(workdir, external):
    if not os.path.isfile(DEPOTD) or not os.access(DEPOTD, os.X_OK):
        pytest.fail("depotd binary not found at %s (build it, or set DEPOTD)" % DEPOTD)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
    env["DEPOT_JWT_SECRET"] = SECRET
    env["DEPOT_EXTERNAL_AZURE_ENDPOINTS"] = external.url("")
    last = ""
    for attempt in range(3):  # a free port can be taken between probe and bind
        data_dir = workdir / ("data%d" % attempt)
        data_dir.mkdir()
        env.update(backend_env(data_dir))
        log_path = workdir / ("depotd%d.log" % attempt)
        port = free_port()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [DEPOTD, "--listen", "127.0.0.1:%d" % port, "--data", str(data_dir)],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        depot = Depot("http://127.0.0.1:%d" % port, proc, log_path)
        depot.external = external
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                if requests.get(depot.base + "/healthz", timeout=1).status_code == 200:
                    return depot
            except requests.RequestException:
                pass
            time.sleep(0.05)
        last = depot.log_tail()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
            pytest.fail("depotd did not answer GET /healthz 200 within %ds\n%s" % (START_TIMEOUT, last))
    pytest.fail("depotd exited at start (3 tries)\n%s" % last)


@pytest.fixture(scope="module")
def depot(tmp_path_factory):
    external = Origin()
    external.routes[EXTERNAL_BLOB] = ("bytes", b"from external storage\n", "text/plain")
    d = start_depot(tmp_path_factory.mktemp("openapi-conformance"), external)
    yield d
    external.close()
    d.proc.send_signal(signal.SIGTERM)
    try:
        rc = d.proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        d.proc.kill()
        d.proc.wait(timeout=STOP_TIMEOUT)
        pytest.fail("depotd did not exit within %ds of SIGTERM\n%s" % (STOP_TIMEOUT, d.log_tail()))
    assert rc == 0, "depotd exited %d after SIGTERM\n%s" % (rc, d.log_tail())


def mint(account=ACCOUNT, sub="openapi-user", scope=None, exp_in=3600):
    claims = {"account_id": account, "exp": int(time.time()) + exp_in}
    if sub is not None:
        claims["sub"] = sub
    if scope is not None:
        claims["scope"] = scope
    tok = jwt.encode(claims, SECRET, algorithm="HS256")
    return tok.decode() if isinstance(tok, bytes) else tok


TOKEN = mint()
READ_ONLY = mint(scope="resources:read")
WRITE_ONLY = mint(scope="resources:write")


def data_url(raw, mime="text/plain"):
    return "data:%s;base64,%s" % (mime, base64.b64encode(raw).decode())


def create(depot, name=None, directory="/openapi/conformance", raw=b"hello openapi\n", **extra):
    body = {"name": name or "r-%s.txt" % uuid.uuid4().hex[:10], "directory_path": directory,
            "content": data_url(raw)}
    body.update(extra)
    r = depot.request("POST", "/v1/resources", TOKEN, json_body=body)
    assert r.status_code == 200, "create: %d %r" % (r.status_code, r.text[:300])
    return r.json()


def concrete(path, rid):
    return path.replace("{id}", rid)


def own_path(depot, url):
    """A URL depotd handed out (upload_url, a signed download url) as a path on this server."""
    assert url.startswith((depot.base + "/v1/", depot.base + "/api/")), (
        "%r does not start with %s (the Host header)" % (url, depot.base))
    return url[len(depot.base):]


def create_folder(depot):
    r = depot.request("POST", "/v1/folders", TOKEN,
                      json_body={"directory_path": "/openapi/folders/f-%s" % uuid.uuid4().hex[:10]})
    assert r.status_code == 200, "folder create: %d %r" % (r.status_code, r.text[:300])
    return r.json()


def create_empirical(depot):
    r = depot.request("POST", "/api/resources", TOKEN,
                      json_body={"name": "e-%s.txt" % uuid.uuid4().hex[:10], "mime_type": "text/plain"})
    assert r.status_code == 200, "empirical create: %d %r" % (r.status_code, r.text[:300])
    return r.json()["data"]["resource"]


def concrete_for(depot, path):
    """path with {id} naming a fresh live object of the kind the route takes."""
    if path == "/v1/folders/{id}":
        return concrete(path, str(create_folder(depot)["id"]))
    if path in NUMERIC_PATHS:
        return concrete(path, str(create(depot)["numeric_id"]))
    return concrete(path, create(depot)["id"])


def create_pending(depot, name=None, directory="/openapi/pending", **extra):
    body = {"name": name or "p-%s.txt" % uuid.uuid4().hex[:10], "directory_path": directory, "upload": "pending"}
    body.update(extra)
    r = depot.request("POST", "/v1/resources", TOKEN, json_body=body)
    assert r.status_code == 200, "pending create: %d %r" % (r.status_code, r.text[:300])
    return r.json()


def mint_url(depot, rid, expires_in=None):
    params = None if expires_in is None else {"expires_in": expires_in}
    r = depot.request("GET", "/v1/resources/%s/url" % rid, TOKEN, params=params)
    assert r.status_code == 200, "mint url: %d %r" % (r.status_code, r.text[:300])
    return r.json()


def with_query(url, **changes):
    """url with some query parameters replaced (None drops one)."""
    base, _, query = url.partition("?")
    q = urllib.parse.parse_qsl(query, keep_blank_values=True)
    out = [(k, changes.pop(k) if k in changes else v) for k, v in q]
    out = [(k, v) for k, v in out if v is not None] + [(k, v) for k, v in changes.items() if v is not None]
    return base + ("?" + urllib.parse.urlencode(out) if out else "")


def prepare(depot, path, method):
    """(url, token, request kwargs) for a request that the document says answers 2xx."""
    method = method.lower()
    if path == "/v1/uploads/{id}":
        return (own_path(depot, create_pending(depot)["upload_url"]), None,
                {"data": b"uploaded bytes\n", "headers": {"Content-Type": "text/plain"}})
    if path == "/v1/signed/{id}/content":
        return own_path(depot, mint_url(depot, create(depot)["id"])["url"]), None, {}
    if path == "/v1/resources/import":
        line = json.dumps({"name": "imp-%s.txt" % uuid.uuid4().hex[:10], "directory_path": "/openapi/import",
                           "content": data_url(b"imported")})
        return path, TOKEN, {"data": (line + "\n").encode(),
                             "headers": {"Content-Type": "application/x-ndjson"}}
    if path == "/api/resources/{id}/upload":
        return (own_path(depot, create_empirical(depot)["upload_url"]), None,
                {"data": b"uploaded bytes\n", "headers": {"Content-Type": "text/plain"}})
    if path == "/v1/resources/{id}/refresh":
        rid = create(depot, content=None, uri=depot.external.url(EXTERNAL_BLOB) + "?sv=1&sig=x")["id"]
        return concrete(path, rid), TOKEN, {"json_body": None}
    token = None if path in PUBLIC_PATHS else TOKEN
    url = concrete_for(depot, path)  # fresh, so DELETE and updates have a live resource of their own
    if path == "/v1/resources/{id}/content" and method == "put":
        return url, token, {"data": b"replaced bytes\n", "headers": {"Content-Type": "text/plain"}}
    return url, token, {"json_body": body_for(path, method)}


def body_for(path, method):
    if path == "/v1/folders" and method == "post":
        return {"directory_path": "/openapi/folders/p-%s" % uuid.uuid4().hex[:10]}
    if path == "/api/resources" and method == "post":
        return {"name": "e-%s.docx" % uuid.uuid4().hex[:10], "description": "routed"}
    if path == "/api/v1/global_resources" and method == "post":
        return {"name": "t-%s" % uuid.uuid4().hex[:10], "value": "routed"}
    if path.startswith("/api/") and method in ("put", "patch"):
        return {"description": "touched by %s" % method}
    if method == "post":
        return {"name": "b-%s.bin" % uuid.uuid4().hex[:10], "directory_path": "/openapi/routed",
                "content": data_url(b"routed"), "tags": ["b", "a"], "metadata": {"k": 1}}
    if method in ("put", "patch"):
        return {"metadata": {"touched": method}}
    return None


# ---------------------------------------------------------------- the document alone


def test_document_is_openapi_3_1_with_the_agreed_header():
    assert DOC["openapi"] == "3.1.0"
    assert DOC["info"]["title"] == "depot"
    assert DOC["info"]["version"] == "1.0.0"
    assert DOC["servers"] == [{"url": "http://127.0.0.1:8080"}]
    scheme = DOC["components"]["securitySchemes"]["BearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")


def test_document_refs_resolve_and_schemas_are_valid_2020_12():
    for r in all_refs(DOC, []):
        resolve(DOC, {"$ref": r})
    if jsonschema is not None:
        for name, s in DOC["components"]["schemas"].items():
            jsonschema.Draft202012Validator.check_schema(s)
    ids = [op["operationId"] for _, _, op in OPS]
    assert len(ids) == len(set(ids)), "duplicate operationId"
    for path, method, op in OPS:
        declared = {resolve(DOC, p)["name"] for p in op.get("parameters", []) + DOC["paths"][path].get("parameters", [])
                    if resolve(DOC, p)["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), "%s %s path parameters" % (method, path)


def test_document_resource_schema_requires_every_property():
    res = DOC["components"]["schemas"]["Resource"]
    assert set(res["required"]) == set(res["properties"])
    for name in ("ResourceCreate", "ResourceCreateForm", "ResourceCreated", "ResourceUpdate", "ResourceList",
                 "SignedUrl", "Error", "ExternalStorageType"):
        assert name in DOC["components"]["schemas"]
    assert DOC["components"]["schemas"]["Error"]["required"] == ["error"]


@pytest.mark.parametrize("path,method,op", OPS, ids=OP_IDS)
def test_document_security_and_scope_per_operation(path, method, op):
    assert "x-depot-scope" in op
    if path in PUBLIC_PATHS:
        assert op["security"] == []
        assert op["x-depot-scope"] is None
        return
    assert path.startswith(("/v1/", "/api/"))
    params = [resolve(DOC, p) for p in op.get("parameters", [])]
    if "If-Match" in {p["name"] for p in params if p["in"] == "header"}:
        assert "412" in op["responses"], "%s %s takes If-Match but does not list 412" % (method, path)
    if path in SIGNED_PATHS:
        assert op["security"] == []
        assert op["x-depot-scope"] == "signed-url"
        assert {"acct", "expires", "sig"} <= {p["name"] for p in params if p["in"] == "query" and p["required"]}
        assert "403" in op["responses"] and "401" not in op["responses"]
        return
    assert op.get("security", DOC.get("security")) == [{"BearerAuth": []}]
    want = "resources:read" if method in ("get", "head") else "resources:write"
    assert op["x-depot-scope"] == want
    for code in ("401", "403"):
        assert code in op["responses"], "%s %s does not list %s" % (method, path, code)
    assert "WWW-Authenticate" in resolve(DOC, op["responses"]["401"]).get("headers", {})


def test_document_if_match_where_the_contract_says():
    want = {("/v1/resources/{id}", m) for m in ("put", "patch", "delete")}
    want |= {("/v1/resource/{id}", m) for m in ("put", "patch", "delete")}
    want.add(("/v1/resources/{id}/content", "put"))
    want.add(("/v1/resources/{id}/refresh", "post"))
    have = {(path, method) for path, method, op in OPS
            if "If-Match" in {resolve(DOC, p)["name"] for p in op.get("parameters", [])}}
    assert have == want


def test_document_answers_head_wherever_get():
    for path, item in DOC["paths"].items():
        assert ("get" in item) == ("head" in item), path


# ---------------------------------------------------------------- (a) the served document


def test_served_openapi_equals_repo_file(depot):
    r = depot.request("GET", "/openapi.json")
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").split(";")[0].strip() == "application/json"
    assert r.json() == load_doc(), "GET /openapi.json differs from openapi/openapi.json (rebuild depotd?)"


# ---------------------------------------------------------------- (b) every documented operation is routed


@pytest.mark.parametrize("path,method,op", OPS, ids=OP_IDS)
def test_documented_operation_is_routed_and_answers_as_documented(depot, path, method, op):
    url, token, kw = prepare(depot, path, method)
    r = depot.request(method.upper(), url, token, **kw)
    assert r.status_code not in (404, 405), "%s %s: %d %r (not routed)" % (
        method.upper(), path, r.status_code, r.text[:300])
    assert 200 <= r.status_code < 300, "%s %s: %d %r" % (method.upper(), path, r.status_code, r.text[:300])
    assert_matches_document(r, path, method)


JWT_OPS = [(o, i) for o, i in zip(OPS, OP_IDS) if o[0] not in PUBLIC_PATHS | SIGNED_PATHS]
SIGNED_OPS = [(o, i) for o, i in zip(OPS, OP_IDS) if o[0] in SIGNED_PATHS]


@pytest.mark.parametrize("path,method,op", [o for o, _ in JWT_OPS], ids=[i for _, i in JWT_OPS])
def test_documented_operation_401_and_403_as_documented(depot, path, method, op):
    url, _, kw = prepare(depot, path, method)
    r = depot.request(method.upper(), url, None, **kw)
    assert r.status_code == 401, "no token: %d %r" % (r.status_code, r.text[:300])
    assert_matches_document(r, path, method, "(no token)")
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")
    r = depot.request(method.upper(), url, "not.a.jwt", **kw)
    assert r.status_code == 401, "malformed token: %d %r" % (r.status_code, r.text[:300])
    assert_matches_document(r, path, method, "(malformed token)")
    wrong = WRITE_ONLY if op["x-depot-scope"] == "resources:read" else READ_ONLY
    r = depot.request(method.upper(), url, wrong, **kw)
    assert r.status_code == 403, "wrong scope: %d %r" % (r.status_code, r.text[:300])
    assert_matches_document(r, path, method, "(wrong scope)")


@pytest.mark.parametrize("path,method,op", [o for o, _ in SIGNED_OPS], ids=[i for _, i in SIGNED_OPS])
def test_signed_operation_403_as_documented(depot, path, method, op):
    url, _, kw = prepare(depot, path, method)
    q = dict(urllib.parse.parse_qsl(url.partition("?")[2]))
    assert set(q) == {"acct", "expires", "sig"}, url
    flipped = ("0" if q["sig"][-1] != "0" else "1")
    variants = {
        "no query": (url.partition("?")[0], None),
        "no sig": (with_query(url, sig=None), None),
        "no acct": (with_query(url, acct=None), None),
        "altered sig": (with_query(url, sig=q["sig"][:-1] + flipped), None),
        "altered acct": (with_query(url, acct=q["acct"] + "-other"), None),
        "altered expires": (with_query(url, expires=str(int(q["expires"]) + 1)), None),
        "altered path": (url.replace(url.partition("?")[0].split("/")[3], str(uuid.uuid4()), 1), None),
        "a JWT instead of a signature": (url.partition("?")[0], TOKEN),
    }
    for what, (u, tok) in variants.items():
        r = depot.request(method.upper(), u, tok, **kw)
        assert r.status_code == 403, "%s: %s: %d %r" % (what, u, r.status_code, r.text[:300])
        assert_matches_document(r, path, method, "(%s)" % what)
    r = depot.request(method.upper(), url, None, **kw)  # the refusals consumed nothing
    assert r.status_code == 200, "%d %r" % (r.status_code, r.text[:300])
    assert_matches_document(r, path, method)


def test_expired_signed_download_url_is_403(depot):
    rid = create(depot)["id"]
    minted = mint_url(depot, rid, expires_in=1)
    expires = int(dict(urllib.parse.parse_qsl(minted["url"].partition("?")[2]))["expires"])
    time.sleep(max(0.0, expires + 1.2 - time.time()))
    for method in ("get", "head"):
        r = depot.request(method.upper(), own_path(depot, minted["url"]), None)
        assert r.status_code == 403, "%s: %d %r" % (method, r.status_code, r.text[:200])
        assert_matches_document(r, "/v1/signed/{id}/content", method, "(expired)")


# ---------------------------------------------------------------- (c) real bodies against the schemas


def test_created_resource_matches_resource_schema(depot):
    body = {"name": "schema-check.txt", "directory_path": "openapi/schema/", "tags": ["zeta", "alpha", "zeta"],
            "metadata": {"k": "v", "n": [1, 2]}, "content": data_url(b"schema", "text/plain;charset=utf-8")}
    r = depot.request("POST", "/v1/resources", TOKEN, json_body=body)
    assert r.status_code == 200, r.text
    res = assert_matches_document(r, "/v1/resources", "post")
    assert set(res) >= set(DOC["components"]["schemas"]["Resource"]["required"])
    assert res["directory_path"] == "/openapi/schema"
    assert res["tags"] == ["alpha", "zeta"]
    assert res["created_by"] == "openapi-user"
    assert res["account_id"] == ACCOUNT
    for path in ("/v1/resources/{id}", "/v1/resource/{id}"):
        g = depot.request("GET", concrete(path, res["id"]), TOKEN)
        assert g.status_code == 200
        assert assert_matches_document(g, path, "get") == res


def test_resource_with_nulls_matches_resource_schema(depot):
    r = depot.request("POST", "/v1/resources", TOKEN, json_body={
        "name": "nulls.bin", "directory_path": "", "content": "data:;base64,"})
    assert r.status_code == 200, r.text
    res = assert_matches_document(r, "/v1/resources", "post")
    assert res["directory_path"] == "/"
    assert res["size_bytes"] == 0
    for k in ("original_uri", "external_id", "external_storage_type", "metadata"):
        assert res[k] is None, k
    assert res["tags"] == []
    # created_by null: a token without sub
    r = depot.request("POST", "/v1/resources", mint(sub=None), json_body={
        "name": "nosub.bin", "directory_path": "/", "content": data_url(b"x")})
    assert r.status_code == 200, r.text
    assert assert_matches_document(r, "/v1/resources", "post")["created_by"] is None


def test_list_response_matches_resource_list_schema_and_defaults(depot):
    for i in range(3):
        create(depot, directory="/openapi/list", tags=["listed"], metadata={"i": i})
    r = depot.request("GET", "/v1/resources", TOKEN, params={"directory_prefix": "/openapi/list"})
    assert r.status_code == 200, r.text
    body = assert_matches_document(r, "/v1/resources", "get")
    params = {resolve(DOC, p)["name"]: resolve(DOC, p) for p in DOC["paths"]["/v1/resources"]["get"]["parameters"]}
    assert body["page"] == params["page"]["schema"]["default"]
    assert body["page_size"] == params["page_size"]["schema"]["default"]
    assert body["total"] == 3 and len(body["items"]) == 3
    assert body["next_cursor"] is None  # the last page
    assert {x["status"] for x in body["items"]} == {params["status"]["schema"]["default"]}
    times = [x["created_at"] for x in body["items"]]
    assert times == sorted(times, reverse=(params["sort"]["schema"]["default"] == "desc"))
    r = depot.request("GET", "/v1/resources", TOKEN, params={"directory_prefix": "/openapi/list", "page": 9})
    assert r.status_code == 200
    assert assert_matches_document(r, "/v1/resources", "get")["items"] == []


def test_query_parameters_follow_their_documented_bounds_and_enums(depot):
    op = DOC["paths"]["/v1/resources"]["get"]
    checked = 0
    for p in op["parameters"]:
        p = resolve(DOC, p)
        s = resolve(DOC, p["schema"])
        name = p["name"]
        good, bad = [], []
        if s.get("type") == "integer":
            bad.append("x1")
            if "minimum" in s:
                good.append(s["minimum"])
                bad.append(s["minimum"] - 1)
            if "maximum" in s:
                good.append(s["maximum"])
                bad.append(s["maximum"] + 1)
        if "enum" in s:
            good += s["enum"]
            bad.append("bogus")
        if s.get("format") == "date-time":
            good += ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05.5+01:00"]
            bad += ["2026-01-02T03:04:05", "yesterday"]
        for v in good:
            r = depot.request("GET", "/v1/resources", TOKEN, params={name: v})
            assert r.status_code == 200, "%s=%r: %d %r" % (name, v, r.status_code, r.text[:200])
            assert_matches_document(r, "/v1/resources", "get", "%s=%r" % (name, v))
            checked += 1
        for v in bad:
            r = depot.request("GET", "/v1/resources", TOKEN, params={name: v})
            assert r.status_code == 400, "%s=%r: %d %r" % (name, v, r.status_code, r.text[:200])
            assert_matches_document(r, "/v1/resources", "get", "%s=%r" % (name, v))
            checked += 1
    assert checked >= 10


def test_400_body_matches_error_schema(depot):
    cases = [
        ("POST", "/v1/resources", b"{not json", "malformed JSON"),
        ("POST", "/v1/resources", b"[1,2]", "non-object"),
        ("POST", "/v1/resources", json.dumps({"name": 5, "directory_path": "/", "content": data_url(b"x")}).encode(),
         "name of the wrong type"),
    ]
    rid = create(depot)["id"]
    cases.append(("PATCH", "/v1/resources/{id}", json.dumps({"directory_path": "a//b"}).encode(), "bad path"))
    cases.append(("PUT", "/v1/resource/{id}", json.dumps({"name": ".."}).encode(), "bad name"))
    for method, path, raw, what in cases:
        r = depot.request(method, concrete(path, rid), TOKEN, data=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, "%s: %d %r" % (what, r.status_code, r.text[:200])
        assert_matches_document(r, path, method, what)


def test_create_without_a_documented_required_field_is_400(depot):
    full = {"name": "req.txt", "directory_path": "/openapi/req", "content": data_url(b"req")}
    for field in DOC["components"]["schemas"]["ResourceCreate"]["required"]:
        body = {k: v for k, v in full.items() if k != field}
        r = depot.request("POST", "/v1/resources", TOKEN, json_body=body)
        assert r.status_code == 400, "without %s: %d %r" % (field, r.status_code, r.text[:200])
        assert_matches_document(r, "/v1/resources", "post", "without " + field)
    # oneOf content/uri: neither, and both
    for body in ({"name": "n1", "directory_path": "/"},
                 {"name": "n2", "directory_path": "/", "content": data_url(b"x"), "uri": "https://example.com/x"}):
        assert schema_errors(DOC, named_schema("ResourceCreate"), body), "document accepts %r" % body
        r = depot.request("POST", "/v1/resources", TOKEN, json_body=body)
        assert r.status_code == 400, "%r: %d %r" % (body, r.status_code, r.text[:200])
        assert_matches_document(r, "/v1/resources", "post")


def test_401_body_matches_error_schema(depot):
    expired = mint(exp_in=-3600)
    for tok in (None, "", "a.b.c", expired, jwt.encode({"account_id": ACCOUNT, "exp": time.time() + 60},
                                                        "another-secret-of-sufficient-length-0123456789",
                                                        algorithm="HS256")):
        if isinstance(tok, bytes):
            tok = tok.decode()
        r = depot.request("GET", "/v1/resources", tok)
        assert r.status_code == 401, "%r: %d" % (tok, r.status_code)
        assert_matches_document(r, "/v1/resources", "get", "(bad token)")


def test_404_body_matches_error_schema(depot):
    for rid in (str(uuid.uuid4()), "not-a-uuid", str(uuid.uuid4()).upper()):
        for path in ("/v1/resources/{id}", "/v1/resource/{id}", "/v1/resources/{id}/content",
                     "/v1/resources/{id}/url"):
            r = depot.request("GET", concrete(path, rid), TOKEN)
            assert r.status_code == 404, "%s: %d" % (concrete(path, rid), r.status_code)
            body = assert_matches_document(r, path, "get", "(unknown id)")
            assert body["error"] == "resource not found"
    other = create(depot)
    r = depot.request("GET", concrete("/v1/resources/{id}", other["id"]), mint(account=ACCOUNT + "-other"))
    assert r.status_code == 404
    assert_matches_document(r, "/v1/resources/{id}", "get", "(other account)")


def test_409_body_matches_error_schema(depot):
    first = create(depot, name="dup.txt", directory="/openapi/dup")
    r = depot.request("POST", "/v1/resources", TOKEN, json_body={
        "name": "dup.txt", "directory_path": "openapi/dup/", "content": data_url(b"other")})
    assert r.status_code == 409, r.text
    assert_matches_document(r, "/v1/resources", "post", "(duplicate)")
    second = create(depot, name="dup2.txt", directory="/openapi/dup")
    for method, path in (("PATCH", "/v1/resources/{id}"), ("PUT", "/v1/resource/{id}")):
        r = depot.request(method, concrete(path, second["id"]), TOKEN, json_body={"name": first["name"]})
        assert r.status_code == 409, "%s: %d %r" % (method, r.status_code, r.text[:200])
        assert_matches_document(r, path, method, "(rename onto taken)")


def huge_request(depot, method, target, token, ctype):
    """Send only the head of a request with a Content-Length far beyond any sane limit; (status, head, body)."""
    raw = b""
    auth = "Authorization: Bearer %s\r\n" % token if token else ""
    with socket.create_connection(("127.0.0.1", int(depot.base.rsplit(":", 1)[1])), timeout=HTTP_TIMEOUT) as s:
        try:
            s.sendall(("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Type: %s\r\n"
                       "Content-Length: 107374182400\r\nConnection: close\r\n\r\n{" % (method, target, auth, ctype)).encode())
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                raw += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass  # the server may close with our bytes unread; what it sent first still counts
    head, _, payload = raw.partition(b"\r\n\r\n")
    return (int(head.split(b" ", 2)[1]) if head else 0), head, payload


def test_413_body_matches_error_schema(depot):
    # Content-Length far beyond DEPOT_MAX_BODY_BYTES / DEPOT_MAX_UPLOAD_BYTES: refused before the body is read.
    rid = create(depot)["id"]
    cases = [("POST", "/v1/resources", "/v1/resources", TOKEN, "application/json"),
             ("POST", "/v1/resources", "/v1/resources", TOKEN, "multipart/form-data; boundary=xyz"),
             ("PUT", "/v1/resources/{id}/content", concrete("/v1/resources/{id}/content", rid), TOKEN, "text/plain"),
             ("PUT", "/v1/resources/{id}", concrete("/v1/resources/{id}", rid), TOKEN, "application/json"),
             ("PUT", "/v1/uploads/{id}", own_path(depot, create_pending(depot)["upload_url"]), None, "text/plain")]
    for method, path, target, token, ctype in cases:
        status, head, payload = huge_request(depot, method, target, token, ctype)
        assert status == 413, "%s %s (%s): answered %r" % (method, target, ctype, head[:200])
        assert documented_response(DOC, path, method, 413) is not None, "%s %s: 413 undocumented" % (method, path)
        if b"transfer-encoding: chunked" in head.lower():
            continue  # chunked 413 body: status checked only
        errs = schema_errors(DOC, named_schema("Error"), json.loads(payload.decode()))
        assert not errs, errs


def test_413_for_json_besides_content_over_max_json_bytes(depot):
    limit = DOC["info"]["x-depot-config"]["DEPOT_MAX_JSON_BYTES"]
    r = depot.request("POST", "/v1/resources", TOKEN, json_body={
        "name": "big-json.txt", "directory_path": "/openapi/big", "content": data_url(b"x"),
        "padding": "p" * (limit + 16)})
    assert r.status_code == 413, "%d %r" % (r.status_code, r.text[:200])
    assert_matches_document(r, "/v1/resources", "post", "(JSON over DEPOT_MAX_JSON_BYTES)")


def test_content_headers_and_body_match_document(depot):
    raw = bytes(range(256)) * 3
    res = create(depot, name='caf\u00e9 "q".bin', raw=raw)
    r = depot.request("GET", concrete("/v1/resources/{id}/content", res["id"]), TOKEN)
    assert r.status_code == 200
    assert_matches_document(r, "/v1/resources/{id}/content", "get")
    assert r.content == raw
    assert int(r.headers["Content-Length"]) == len(raw) == res["size_bytes"]
    assert r.headers["ETag"] == '"%s"' % res["sha256"]
    assert r.headers["Content-Type"] == res["mime_type"]
    m = re.fullmatch(r'attachment; filename="([ !#-~]*)"; filename\*=UTF-8\'\'([!-~]*)', r.headers["Content-Disposition"])
    assert m, r.headers["Content-Disposition"]
    assert m.group(1).startswith("caf_") and m.group(1).endswith(" _q_.bin"), m.group(1)
    assert urllib.parse.unquote(m.group(2), encoding="utf-8", errors="strict") == res["name"]
    assert r.headers["Accept-Ranges"] == "bytes"
    h = depot.request("HEAD", concrete("/v1/resources/{id}/content", res["id"]), TOKEN)
    assert h.status_code == 200
    assert_matches_document(h, "/v1/resources/{id}/content", "head")
    assert h.headers.get("ETag") == r.headers["ETag"]


def test_delete_answers_documented_204(depot):
    for path in ("/v1/resources/{id}", "/v1/resource/{id}"):
        rid = create(depot)["id"]
        r = depot.request("DELETE", concrete(path, rid), TOKEN)
        assert r.status_code == 204
        assert_matches_document(r, path, "delete")
        r = depot.request("DELETE", concrete(path, rid), TOKEN)
        assert r.status_code == 404
        assert_matches_document(r, path, "delete", "(again)")


def test_update_response_matches_resource_schema(depot):
    res = create(depot, tags=["t1"], metadata={"a": 1})
    for method, path, body in (
            ("PUT", "/v1/resources/{id}", {"tags": ["b", "a", "b"], "metadata": None}),
            ("PATCH", "/v1/resources/{id}", {"name": "renamed-%s" % res["id"][:8]}),
            ("PUT", "/v1/resource/{id}", {"directory_path": "/openapi/moved/"}),
            ("PATCH", "/v1/resource/{id}", {"metadata": {"z": True}})):
        r = depot.request(method, concrete(path, res["id"]), TOKEN, json_body=body)
        assert r.status_code == 200, "%s %s: %d %r" % (method, path, r.status_code, r.text[:200])
        out = assert_matches_document(r, path, method)
        assert out["id"] == res["id"]
    assert out["tags"] == ["a", "b"]
    assert out["directory_path"] == "/openapi/moved"
    assert out["metadata"] == {"z": True}
    assert out["updated_at"] > res["updated_at"]


def test_pending_upload_flow_matches_document(depot):
    res = create_pending(depot, tags=["pend"], metadata={"p": 1}, mime_type="text/csv")
    r = depot.request("POST", "/v1/resources", TOKEN, json_body={
        "name": "flow.csv", "directory_path": "/openapi/flow", "upload": "pending", "mime_type": "text/csv"})
    assert r.status_code == 200, r.text
    res = assert_matches_document(r, "/v1/resources", "post", "(pending)")
    assert set(res) >= set(DOC["components"]["schemas"]["Resource"]["required"]) | {"upload_url", "upload_url_expires_at"}
    assert (res["status"], res["version"], res["sha256"], res["storage_key"], res["size_bytes"]) == (
        "pending", 1, None, None, 0)
    assert res["mime_type"] == "text/csv"
    left = (time.mktime(time.strptime(res["upload_url_expires_at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
            - time.time())
    assert 900 - 30 < left <= 900 + 1, "upload_url valid %.0fs, documented DEPOT_UPLOAD_URL_TTL default 900" % left
    rid = res["id"]
    upload = own_path(depot, res["upload_url"])
    # pending: out of the default list, in status=pending; its content is 409
    for status, present in ((None, False), ("uploaded", False), ("pending", True)):
        params = {"directory_prefix": "/openapi/flow"}
        if status:
            params["status"] = status
        r = depot.request("GET", "/v1/resources", TOKEN, params=params)
        body = assert_matches_document(r, "/v1/resources", "get", "(status=%s)" % status)
        assert (rid in [x["id"] for x in body["items"]]) == present, status
    for method in ("get", "head"):
        r = depot.request(method.upper(), "/v1/resources/%s/content" % rid, TOKEN)
        assert r.status_code == 409, r.status_code
        assert_matches_document(r, "/v1/resources/{id}/content", method, "(pending)")
    # confirming before the bytes: 409; status other than uploaded: 400
    for method, path in (("PATCH", "/v1/resources/{id}"), ("PUT", "/v1/resource/{id}")):
        r = depot.request(method, concrete(path, rid), TOKEN, json_body={"status": "uploaded"})
        assert r.status_code == 409, "%s: %d %r" % (method, r.status_code, r.text[:200])
        assert_matches_document(r, path, method, "(confirm without bytes)")
        r = depot.request(method, concrete(path, rid), TOKEN, json_body={"status": "pending"})
        assert r.status_code == 400, "%s: %d %r" % (method, r.status_code, r.text[:200])
        assert_matches_document(r, path, method, "(status pending)")
    assert schema_errors(DOC, named_schema("ResourceUpdate"), {"status": "pending"})
    # the signed upload: no JWT
    raw = b"a,b\n1,2\n"
    r = depot.request("PUT", upload, None, data=raw)
    assert r.status_code == 200, "%d %r" % (r.status_code, r.text[:200])
    up = assert_matches_document(r, "/v1/uploads/{id}", "put")
    assert up["status"] == "pending" and up["size_bytes"] == len(raw)
    assert up["sha256"] == __import__("hashlib").sha256(raw).hexdigest()
    assert up["mime_type"] == "text/csv"  # the declared type: the PUT named none
    r = depot.request("PUT", upload, None, data=b"again")
    assert r.status_code == 409, "second upload: %d %r" % (r.status_code, r.text[:200])
    assert_matches_document(r, "/v1/uploads/{id}", "put", "(second upload)")
    # confirm
    r = depot.request("PATCH", "/v1/resources/%s" % rid, TOKEN, json_body={"status": "uploaded"})
    assert r.status_code == 200, r.text
    done = assert_matches_document(r, "/v1/resources/{id}", "patch", "(confirm)")
    assert done["status"] == "uploaded" and done["sha256"] == up["sha256"]
    assert done["version"] == up["version"] + 1
    r = depot.request("GET", "/v1/resources/%s/content" % rid, TOKEN)
    assert r.status_code == 200 and r.content == raw
    assert_matches_document(r, "/v1/resources/{id}/content", "get")
    r = depot.request("PUT", upload, None, data=b"late")
    assert r.status_code == 409, "upload after confirm: %d" % r.status_code
    assert_matches_document(r, "/v1/uploads/{id}", "put", "(after confirm)")
    # the upload URL of a deleted resource: 404
    gone = create_pending(depot)
    assert depot.request("DELETE", "/v1/resources/%s" % gone["id"], TOKEN).status_code == 204
    r = depot.request("PUT", own_path(depot, gone["upload_url"]), None, data=b"x")
    assert r.status_code == 404, "%d %r" % (r.status_code, r.text[:200])
    assert_matches_document(r, "/v1/uploads/{id}", "put", "(deleted)")


def test_create_body_choices_follow_resource_create(depot):
    good = {"name": "choice.txt", "directory_path": "/openapi/choice", "upload": "pending"}
    assert not schema_errors(DOC, named_schema("ResourceCreate"), good)
    for extra in ({"content": data_url(b"x")}, {"uri": "https://example.com/x"}, {"upload": "later"}):
        body = dict(good, name="c-%s" % uuid.uuid4().hex[:8], **extra)
        assert schema_errors(DOC, named_schema("ResourceCreate"), body), "document accepts %r" % body
        r = depot.request("POST", "/v1/resources", TOKEN, json_body=body)
        assert r.status_code == 400, "%r: %d %r" % (extra, r.status_code, r.text[:200])
        assert_matches_document(r, "/v1/resources", "post", "(%r)" % extra)
    # a create with content answers no upload_url
    r = depot.request("POST", "/v1/resources", TOKEN, json_body={
        "name": "plain.txt", "directory_path": "/openapi/choice", "content": data_url(b"plain")})
    assert r.status_code == 200
    body = assert_matches_document(r, "/v1/resources", "post")
    assert "upload_url" not in body and body["status"] == "uploaded" and body["version"] == 1


def test_multipart_create_matches_document(depot):
    op = DOC["paths"]["/v1/resources"]["post"]
    form = resolve(DOC, op["requestBody"]["content"]["multipart/form-data"]["schema"])
    assert set(form["required"]) == {"file", "directory_path"}
    r = requests.post(depot.base + "/v1/resources", headers={"Authorization": "Bearer " + TOKEN},
                      files=[("file", ("form.txt", b"form bytes\n", "text/plain")),
                             ("directory_path", (None, "openapi/form/")), ("tags", (None, "b,a")),
                             ("tags", (None, "c")), ("metadata", (None, '{"m": true}'))],
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, "%d %r" % (r.status_code, r.text[:300])
    res = assert_matches_document(r, "/v1/resources", "post", "(multipart)")
    assert (res["name"], res["directory_path"], res["tags"], res["metadata"], res["mime_type"]) == (
        "form.txt", "/openapi/form", ["a", "b", "c"], {"m": True}, "text/plain")
    assert res["size_bytes"] == len(b"form bytes\n") and "upload_url" not in res
    for name, files in (("without file", [("directory_path", (None, "/openapi/form")), ("name", (None, "n.txt"))]),
                        ("without directory_path", [("file", ("nodir.txt", b"x", "text/plain"))]),
                        ("metadata not an object", [("file", ("m.txt", b"x", "text/plain")),
                                                    ("directory_path", (None, "/openapi/form")),
                                                    ("metadata", (None, "[1]"))])):
        r = requests.post(depot.base + "/v1/resources", headers={"Authorization": "Bearer " + TOKEN},
                          files=files, timeout=HTTP_TIMEOUT)
        assert r.status_code == 400, "%s: %d %r" % (name, r.status_code, r.text[:200])
        assert_matches_document(r, "/v1/resources", "post", "(multipart %s)" % name)


def test_put_content_matches_document(depot):
    res = create(depot, raw=b"old bytes")
    url = "/v1/resources/%s/content" % res["id"]
    for ctype, raw, want in (("text/csv", b"x,y\n", "text/csv"), ("application/x-www-form-urlencoded", b"plain text\n", None)):
        r = depot.request("PUT", url, TOKEN, data=raw, headers={"Content-Type": ctype})
        assert r.status_code == 200, "%d %r" % (r.status_code, r.text[:200])
        out = assert_matches_document(r, "/v1/resources/{id}/content", "put")
        assert out["size_bytes"] == len(raw) and out["status"] == "uploaded"
        assert out["sha256"] == __import__("hashlib").sha256(raw).hexdigest()
        if want:
            assert out["mime_type"] == want
        else:
            assert out["mime_type"] != ctype  # sniffed
        g = depot.request("GET", url, TOKEN)
        assert g.content == raw and g.headers["ETag"] == '"%s"' % out["sha256"]
    assert out["version"] == res["version"] + 2
    r = depot.request("PUT", "/v1/resources/%s/content" % uuid.uuid4(), TOKEN, data=b"x")
    assert r.status_code == 404
    assert_matches_document(r, "/v1/resources/{id}/content", "put", "(unknown id)")


def test_if_match_412_and_matches_as_documented(depot):
    res = create(depot)
    etag = '"%s"' % res["sha256"]
    cases = [("PUT", "/v1/resources/{id}", {"json_body": {"metadata": {"a": 1}}}),
             ("PATCH", "/v1/resources/{id}", {"json_body": {"metadata": {"a": 2}}}),
             ("PUT", "/v1/resource/{id}", {"json_body": {"metadata": {"a": 3}}}),
             ("PATCH", "/v1/resource/{id}", {"json_body": {"metadata": {"a": 4}}}),
             ("PUT", "/v1/resources/{id}/content", {"data": b"hello openapi\n", "headers": {"Content-Type": "text/plain"}})]
    version = res["version"]
    for method, path, kw in cases:
        url = concrete(path, res["id"])
        for stale in ('"%d"' % (version + 7), str(version + 7), 'W/"%d"' % (version + 7), '"%s"' % ("0" * 64)):
            h = dict(kw.get("headers", {}), **{"If-Match": stale})
            r = depot.request(method, url, TOKEN, **dict(kw, headers=h))
            assert r.status_code == 412, "%s %s If-Match %s: %d %r" % (method, path, stale, r.status_code, r.text[:200])
            body = assert_matches_document(r, path, method, "(If-Match %s)" % stale)
            assert body["error"] == "resource has changed (If-Match)"
        for form in ('"%d"', "%d", 'W/"%d"', "etag", "*"):
            good = etag if form == "etag" else form.replace("%d", str(version))
            h = dict(kw.get("headers", {}), **{"If-Match": good})
            r = depot.request(method, url, TOKEN, **dict(kw, headers=h))
            assert r.status_code == 200, "%s %s If-Match %s: %d %r" % (method, path, good, r.status_code, r.text[:200])
            out = assert_matches_document(r, path, method, "(If-Match %s)" % good)
            assert out["version"] == version + 1, (good, out["version"], version)
            version = out["version"]
            etag = '"%s"' % out["sha256"]
    for path in ("/v1/resources/{id}", "/v1/resource/{id}"):
        rid = create(depot)["id"]
        r = depot.request("DELETE", concrete(path, rid), TOKEN, headers={"If-Match": '"99"'})
        assert r.status_code == 412
        assert_matches_document(r, path, "delete", "(If-Match)")
        r = depot.request("DELETE", concrete(path, rid), TOKEN, headers={"If-Match": '"1"'})
        assert r.status_code == 204
        assert_matches_document(r, path, "delete", "(If-Match)")


@pytest.mark.parametrize("route", ["/v1/resources/{id}/content", "/v1/signed/{id}/content"])
def test_ranges_304_and_416_match_document(depot, route):
    raw = bytes(range(100))
    res = create(depot, raw=raw)

    def get(method, headers):
        if route.startswith("/v1/signed/"):
            return depot.request(method, own_path(depot, mint_url(depot, res["id"])["url"]), None, headers=headers)
        return depot.request(method, concrete(route, res["id"]), TOKEN, headers=headers)

    etag = '"%s"' % res["sha256"]
    for rng, start, end in (("bytes=10-19", 10, 19), ("bytes=90-", 90, 99), ("bytes=-5", 95, 99),
                            ("bytes=95-500", 95, 99)):
        for method in ("get", "head"):
            r = get(method.upper(), {"Range": rng})
            assert r.status_code == 206, "%s %s: %d" % (method, rng, r.status_code)
            assert_matches_document(r, route, method, rng)
            assert r.headers["Content-Range"] == "bytes %d-%d/100" % (start, end)
            if method == "get":
                assert r.content == raw[start:end + 1]
    r = get("GET", {"Range": "bytes=10-19", "If-Range": etag})
    assert r.status_code == 206
    for headers in ({"Range": "bytes=10-19", "If-Range": '"stale"'}, {"Range": "bytes=0-1,5-6"}, {"Range": "pages=1-2"}):
        r = get("GET", headers)
        assert r.status_code == 200, "%r: %d" % (headers, r.status_code)
        assert_matches_document(r, route, "get", repr(headers))
        assert r.content == raw
    for rng in ("bytes=100-", "bytes=500-600", "bytes=-0"):
        for method in ("get", "head"):
            r = get(method.upper(), {"Range": rng})
            assert r.status_code == 416, "%s %s: %d" % (method, rng, r.status_code)
            assert_matches_document(r, route, method, rng)
            assert r.headers["Content-Range"] == "bytes */100"
    for inm in (etag, "*", '"abc", %s' % etag):
        for method in ("get", "head"):
            r = get(method.upper(), {"If-None-Match": inm})
            assert r.status_code == 304, "%s If-None-Match %s: %d" % (method, inm, r.status_code)
            assert_matches_document(r, route, method, "If-None-Match " + inm)
            assert r.headers["ETag"] == etag
    r = get("GET", {"If-None-Match": '"other"'})
    assert r.status_code == 200 and r.content == raw


def test_signed_url_expires_in_follows_documented_bounds(depot):
    rid = create(depot)["id"]
    params = {resolve(DOC, p)["name"]: resolve(DOC, p) for p in DOC["paths"]["/v1/resources/{id}/url"]["get"]["parameters"]}
    s = params["expires_in"]["schema"]
    for method in ("get", "head"):
        for v in (None, s["minimum"], s["maximum"]):
            r = depot.request(method.upper(), "/v1/resources/%s/url" % rid, TOKEN,
                              params=None if v is None else {"expires_in": v})
            assert r.status_code == 200, "%s expires_in=%r: %d %r" % (method, v, r.status_code, r.text[:200])
            body = assert_matches_document(r, "/v1/resources/{id}/url", method, "expires_in=%r" % v)
            if body is not None:
                ttl = s["default"] if v is None else v
                expires = int(dict(urllib.parse.parse_qsl(body["url"].partition("?")[2]))["expires"])
                assert abs(expires - (time.time() + ttl)) < 30, (v, expires)
                assert body["expires_at"] == time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(expires))
                assert body["url"].startswith(depot.base + "/v1/signed/%s/content?" % rid)
        for v in (s["minimum"] - 1, s["maximum"] + 1, "x1", ""):
            r = depot.request(method.upper(), "/v1/resources/%s/url" % rid, TOKEN, params={"expires_in": v})
            assert r.status_code == 400, "%s expires_in=%r: %d" % (method, v, r.status_code)
            assert_matches_document(r, "/v1/resources/{id}/url", method, "expires_in=%r" % v)


def test_cursor_pages_follow_document(depot):
    d = "/openapi/cursor-%s" % uuid.uuid4().hex[:8]
    made = [create(depot, directory=d)["id"] for _ in range(5)]
    for sort in ("desc", "asc"):
        seen, cursor, pages = [], None, 0
        while True:
            params = {"directory_prefix": d, "page_size": 2, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            r = depot.request("GET", "/v1/resources", TOKEN, params=params)
            assert r.status_code == 200, r.text
            body = assert_matches_document(r, "/v1/resources", "get", "(cursor)")
            assert body["total"] == 5
            seen += [x["id"] for x in body["items"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
            assert pages < 10
        assert sorted(seen) == sorted(made) and len(seen) == 5, sort
        assert pages == 3, "%s: %d pages of 2 for 5 items" % (sort, pages)
    r = depot.request("GET", "/v1/resources", TOKEN, params={"directory_prefix": d, "page_size": 2})
    c = r.json()["next_cursor"]
    for bad in ({"cursor": "not-a-cursor"}, {"cursor": c, "sort": "asc"}, {"cursor": c, "page": 2}):
        r = depot.request("GET", "/v1/resources", TOKEN, params=dict(bad, directory_prefix=d, page_size=2))
        assert r.status_code == 400, "%r: %d" % (bad, r.status_code)
        assert_matches_document(r, "/v1/resources", "get", repr(bad))


def test_next_cursor_is_null_on_a_full_last_page(depot):
    # docs/API.md: "next_cursor (string, or null on the last page)" -- also when the last page is full.
    d = "/openapi/fullpage-%s" % uuid.uuid4().hex[:8]
    for _ in range(4):
        create(depot, directory=d)
    r = depot.request("GET", "/v1/resources", TOKEN, params={"directory_prefix": d, "page_size": 4})
    body = assert_matches_document(r, "/v1/resources", "get")
    assert body["total"] == 4 and len(body["items"]) == 4
    assert body["next_cursor"] is None, "next_cursor %r on the last (full) page" % body["next_cursor"]
    r = depot.request("GET", "/v1/resources", TOKEN, params={"directory_prefix": d, "page_size": 2})
    c = assert_matches_document(r, "/v1/resources", "get")["next_cursor"]
    r = depot.request("GET", "/v1/resources", TOKEN, params={"directory_prefix": d, "page_size": 2, "cursor": c})
    body = assert_matches_document(r, "/v1/resources", "get")
    assert len(body["items"]) == 2
    assert body["next_cursor"] is None, "next_cursor %r on the last (full) page" % body["next_cursor"]


# ---------------------------------------------------------------- (d) every answered route is documented


PROBE_PATHS = ["/v1/resources", "/v1/resources/import", "/v1/resources/{id}", "/v1/resources/{id}/content",
               "/v1/resources/{id}/url", "/v1/resources/{id}/value", "/v1/folders", "/v1/folders/{id}",
               "/v1/resource/{id}", "/v1/uploads/{id}", "/v1/signed/{id}/content", "/healthz", "/openapi.json",
               "/api/resources", "/api/resources/{id}", "/api/resources/{id}/upload",
               "/api/v1/global_resources", "/api/v1/global_resources/{id}"]
UNKNOWN_PATHS = ["/", "/v1", "/v1/", "/v1/resource", "/v1/resources/{id}/contents", "/v1/resources/{id}/content/x",
                 "/v2/resources", "/healthz/x", "/openapi.yaml", "/v1/resources/{id}/{id}",
                 "/v1/resources/{id}/url/x", "/v1/resources/{id}/urls", "/v1/uploads", "/v1/uploads/{id}/content",
                 "/v1/signed", "/v1/signed/{id}", "/v1/signed/{id}/url", "/v1/resource/{id}/content"]


def probe_target(depot, probe, method):
    """(url, token) for probing `method` on `probe`: signed paths get a real signed query."""
    if probe == "/v1/uploads/{id}":
        return own_path(depot, create_pending(depot)["upload_url"]), None
    if probe == "/v1/signed/{id}/content":
        return own_path(depot, mint_url(depot, create(depot)["id"])["url"]), None
    if probe == "/api/resources/{id}/upload":
        return own_path(depot, create_empirical(depot)["upload_url"]), None
    return concrete_for(depot, probe), (None if probe in PUBLIC_PATHS else TOKEN)


@pytest.mark.parametrize("probe", PROBE_PATHS)
def test_every_answered_method_is_documented(depot, probe):
    template = match_template(DOC, probe)
    for method in PROBE_METHODS:
        if probe == "/v1/resources/import" and method != "POST":
            # Other methods reach /v1/resources/{id} with the id "import": 404, no such resource.
            r = depot.request(method, probe, TOKEN)
            assert r.status_code in (404, 405), (method, r.status_code, r.text[:200])
            continue
        if probe == "/v1/resources/import":
            template = "/v1/resources/import"
        url, token = probe_target(depot, probe, method)
        r = depot.request(method, url, token, json_body=body_for(probe, method.lower()))
        documented = template is not None and method.lower() in DOC["paths"][template]
        if r.status_code in (404, 405):
            assert not documented, "%s %s is documented but answered %d %r" % (method, probe, r.status_code,
                                                                            r.text[:200])
            assert r.status_code == 405, "%s %s: known path, undocumented method: %d, want 405" % (
                method, probe, r.status_code)
            allow = {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}
            want = {m.upper() for m in DOC["paths"][template] if m in HTTP_METHODS}
            assert allow - {"HEAD"} == want - {"HEAD"}, "%s %s: Allow %r, documented %r" % (
                method, probe, sorted(allow), sorted(want))
            if method != "HEAD":
                errs = schema_errors(DOC, named_schema("Error"), r.json())
                assert not errs, errs
        else:
            assert documented, "%s %s answered %d but is not in the document" % (method, probe, r.status_code)


@pytest.mark.parametrize("probe", UNKNOWN_PATHS)
def test_unknown_paths_are_404_and_undocumented(depot, probe):
    assert match_template(DOC, probe.replace("{id}", "x")) is None
    rid = create(depot)["id"]
    for method in ("GET", "POST", "DELETE"):
        r = depot.request(method, concrete(probe, rid), TOKEN)
        assert r.status_code == 404, "%s %s: %d %r" % (method, probe, r.status_code, r.text[:200])
        errs = schema_errors(DOC, named_schema("Error"), r.json())
        assert not errs, errs


# ---------------------------------------------------------------- the capabilities of seeds 003/004 and their dialects


OTHER_ACCOUNT = ACCOUNT + "-sharer"


def test_v1_capability_bodies_match_document(depot):
    res = create(depot, description="described", read_access="GLOBAL")
    assert (res["description"], res["read_access"], res["shared"], res["test_resource"]) == (
        "described", "GLOBAL", False, None)
    for text, typed in (("plain", "plain"), ("[1,2]", [1, 2]), ('{"a":true}', {"a": True}), ("7", 7)):
        r = depot.request("POST", "/v1/resources", TOKEN, json_body={
            "name": "val-%s" % uuid.uuid4().hex[:10], "directory_path": "/openapi/values", "value": text})
        made = assert_matches_document(r, "/v1/resources", "post", "(value)")
        for params, want in (({}, text), ({"typed_value": "true"}, typed)):
            g = depot.request("GET", "/v1/resources/%s/value" % made["id"], TOKEN, params=params)
            assert assert_matches_document(g, "/v1/resources/{id}/value", "get")["value"] == want
    f = depot.request("GET", "/v1/resources/%s/value" % create(depot, raw=b"\x00\x01bin")["id"], TOKEN)
    assert set(assert_matches_document(f, "/v1/resources/{id}/value", "get")["value"]) == {"name", "contents", "type"}
    g = depot.request("GET", "/v1/resources/%s/value" % create_pending(depot)["id"], TOKEN)
    assert assert_matches_document(g, "/v1/resources/{id}/value", "get")["value"] is None
    for bad in ({"typed_value": "x"}, {"is_test": "x"}):
        g = depot.request("GET", "/v1/resources/%s/value" % res["id"], TOKEN, params=bad)
        assert g.status_code == 400
        assert_matches_document(g, "/v1/resources/{id}/value", "get", repr(bad))
    # test values
    r = depot.request("PUT", "/v1/resources/%s/content" % res["id"], TOKEN, params={"is_test": "true"}, data=b"t")
    assert r.status_code == 409
    assert_matches_document(r, "/v1/resources/{id}/content", "put", "(test value not enabled)")
    r = depot.request("PATCH", "/v1/resources/%s" % res["id"], TOKEN, json_body={"test_resource_enabled": True})
    assert assert_matches_document(r, "/v1/resources/{id}", "patch")["test_resource"]["sha256"] == res["sha256"]
    r = depot.request("PUT", "/v1/resources/%s/content" % res["id"], TOKEN, params={"is_test": "true"}, data=b"t")
    assert assert_matches_document(r, "/v1/resources/{id}/content", "put", "(test value)")["test_resource"]["size_bytes"] == 1
    g = depot.request("GET", "/v1/resources/%s/content" % res["id"], TOKEN, params={"is_test": "true"})
    assert_matches_document(g, "/v1/resources/{id}/content", "get", "(test value)")
    assert g.content == b"t"
    # folders
    path = "/openapi/folders/c-%s" % uuid.uuid4().hex[:10]
    r = depot.request("POST", "/v1/folders", TOKEN, json_body={"directory_path": path})
    folder = assert_matches_document(r, "/v1/folders", "post")
    r = depot.request("POST", "/v1/folders", TOKEN, json_body={"directory_path": path})
    assert r.status_code == 409
    assert_matches_document(r, "/v1/folders", "post", "(taken)")
    r = depot.request("POST", "/v1/folders", TOKEN, json_body={"directory_path": "/"})
    assert r.status_code == 400
    assert_matches_document(r, "/v1/folders", "post", "(root)")
    assert assert_matches_document(depot.request("GET", "/v1/folders/%d" % folder["id"], TOKEN),
                                   "/v1/folders/{id}", "get") == folder
    r = depot.request("GET", "/v1/folders/999999999", TOKEN)
    assert r.status_code == 404
    assert_matches_document(r, "/v1/folders/{id}", "get", "(unknown)")
    r = depot.request("PATCH", "/v1/resources/%s" % res["id"], TOKEN, json_body={"folder_id": folder["id"]})
    assert assert_matches_document(r, "/v1/resources/{id}", "patch")["folder_id"] == folder["id"]
    r = depot.request("GET", "/v1/resources", TOKEN, params={"folder_id": folder["id"]})
    assert [x["id"] for x in assert_matches_document(r, "/v1/resources", "get")["items"]] == [res["id"]]
    # sharing: the reader's view, and its refused write
    reader = mint(account=OTHER_ACCOUNT)
    r = depot.request("GET", "/v1/resources", reader, params={"owner": "shared", "folder_id": None})
    body = assert_matches_document(r, "/v1/resources", "get", "(owner=shared)")
    assert res["id"] in [x["id"] for x in body["items"] if x["shared"]]
    r = depot.request("GET", "/v1/resources/%s" % res["id"], reader)
    assert assert_matches_document(r, "/v1/resources/{id}", "get", "(shared)")["shared"] is True
    for method, path, kw in (("PATCH", "/v1/resources/{id}", {"json_body": {"name": "x"}}),
                             ("DELETE", "/v1/resources/{id}", {}),
                             ("PUT", "/v1/resources/{id}/content", {"data": b"x"})):
        r = depot.request(method, concrete(path, res["id"]), reader, **kw)
        assert r.status_code == 403, "%s %s: %d" % (method, path, r.status_code)
        assert_matches_document(r, path, method, "(shared read-only)")


def test_empirical_bodies_match_document(depot):
    r = depot.request("POST", "/api/resources", TOKEN, json_body={
        "name": "emp-%s.docx" % uuid.uuid4().hex[:10], "mime_type": "text/plain", "size_bytes": 5,
        "description": "d"})
    res = assert_matches_document(r, "/api/resources", "post")["data"]["resource"]
    r = depot.request("POST", "/api/resources", TOKEN, json_body={"name": res["name"]})
    assert r.status_code == 409
    assert_matches_document(r, "/api/resources", "post", "(taken)")
    r = depot.request("POST", "/api/resources", TOKEN, json_body={"name": "x", "url": "https://example.com"})
    assert r.status_code == 400
    assert_matches_document(r, "/api/resources", "post", "(url)")
    rid = res["id"]
    for method in ("get", "head"):
        assert_matches_document(depot.request(method.upper(), "/api/resources/%d" % rid, TOKEN),
                                "/api/resources/{id}", method, "(pending)")
    r = depot.request("PATCH", "/api/resources/%d" % rid, TOKEN, json_body={"status": "uploaded"})
    assert r.status_code == 409
    assert_matches_document(r, "/api/resources/{id}", "patch", "(confirm before upload)")
    upload = own_path(depot, res["upload_url"])
    r = depot.request("PUT", upload, None, data=b"bytes")
    assert assert_matches_document(r, "/api/resources/{id}/upload", "put")["data"]["resource"]["size_bytes"] == 5
    r = depot.request("PUT", upload, None, data=b"again")
    assert r.status_code == 409
    assert_matches_document(r, "/api/resources/{id}/upload", "put", "(second upload)")
    r = depot.request("PATCH", "/api/resources/%d" % rid, TOKEN, json_body={"status": "uploaded"})
    assert assert_matches_document(r, "/api/resources/{id}", "patch")["data"]["resource"]["status"] == "uploaded"
    r = depot.request("GET", "/api/resources/%d" % rid, TOKEN)
    assert assert_matches_document(r, "/api/resources/{id}", "get")["data"]["resource"]["url"]
    r = depot.request("PATCH", "/api/resources/%d" % rid, TOKEN, json_body={"status": "done"})
    assert r.status_code == 400
    assert_matches_document(r, "/api/resources/{id}", "patch", "(bad status)")
    for bad in ("999999999", "abc"):
        for method, path in (("GET", "/api/resources/{id}"), ("PATCH", "/api/resources/{id}")):
            r = depot.request(method, concrete(path, bad), TOKEN, json_body={} if method == "PATCH" else None)
            assert r.status_code == 404
            assert_matches_document(r, path, method, "(%s)" % bad)


def test_tines_bodies_match_document(depot):
    name = "tines-%s" % uuid.uuid4().hex[:10]
    r = depot.request("POST", "/api/v1/global_resources", TOKEN, json_body={
        "name": name, "value": {"k": [1]}, "description": "d", "test_resource_enabled": True})
    res = assert_matches_document(r, "/api/v1/global_resources", "post")
    for params in ({}, {"typed_value": "true"}, {"is_test": "true"}, {"include_referencing_action_ids": "false"}):
        for method in ("get", "head"):
            g = depot.request(method.upper(), "/api/v1/global_resources/%d" % res["id"], TOKEN, params=params)
            assert_matches_document(g, "/api/v1/global_resources/{id}", method, repr(params))
    r = depot.request("PUT", "/api/v1/global_resources/%d" % res["id"], TOKEN, json_body={
        "value": {"name": "f.pdf", "contents": "JVBERi0xLjQK", "type": "application/pdf"}, "is_test": True})
    out = assert_matches_document(r, "/api/v1/global_resources/{id}", "put", "(file test value)")
    assert out["value"]["name"] == "f.pdf" and out["test_resource"]["value"]["type"] == "application/pdf"
    r = depot.request("PUT", "/api/v1/global_resources/%d" % res["id"], TOKEN, json_body={
        "test_resource_enabled": False, "value": "t", "is_test": True})
    assert r.status_code == 409
    assert_matches_document(r, "/api/v1/global_resources/{id}", "put", "(test value disabled)")
    for body in ({"folder_id": 999999999}, {"read_access": "nobody"}, {"value": {"contents": "x"}}):
        r = depot.request("PUT", "/api/v1/global_resources/%d" % res["id"], TOKEN, json_body=body)
        assert r.status_code == 400, body
        assert_matches_document(r, "/api/v1/global_resources/{id}", "put", repr(body))
    r = depot.request("POST", "/api/v1/global_resources", TOKEN, json_body={"name": name, "value": "v"})
    assert r.status_code == 409
    assert_matches_document(r, "/api/v1/global_resources", "post", "(taken)")
    r = depot.request("POST", "/api/v1/global_resources", TOKEN, json_body={
        "name": name + "-2", "value": "v", "team_id": res["team_id"] + 1000})
    assert r.status_code == 403
    assert_matches_document(r, "/api/v1/global_resources", "post", "(another team)")
    for params in ({}, {"per_page": 1}, {"team_id": res["team_id"]}, {"typed_value": "true"}):
        r = depot.request("GET", "/api/v1/global_resources", TOKEN, params=params)
        assert_matches_document(r, "/api/v1/global_resources", "get", repr(params))
    r = depot.request("GET", "/api/v1/global_resources", TOKEN, params={"page": 0})
    assert r.status_code == 400
    assert_matches_document(r, "/api/v1/global_resources", "get", "(page=0)")
