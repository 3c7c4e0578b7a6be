"""The OpenAPI document: every operation described, tagged, and with every error it can give.

drf-spectacular builds the document from the views; `AutoSchema` adds what it cannot see:

- The error answers each operation can give, all in the one error shape (`Error`): 400 for a
  query string (every view refuses parameters it does not read), a body or a header; 401 unless
  the view is open; 403 for writes (role checks, CSRF for browser sessions) and for views with
  more than an authentication check; 404 on routes with an id and on lists (a page past the
  end); 406 for an `Accept` it cannot serve; 409 on the writes of a `RecordViewSet` (the
  services refuse changes that conflict with a record's state or another record); 412 where
  `If-Match` is read; 413 and 415 on every write. This holds under `/api/`; another interface
  (FHIR, with its OperationOutcome) declares its own. An operation may declare more (or reword
  one) with `@extend_schema(responses=...)` and `error_response(...)`; what it declares is kept.
- Conditional requests. A record's read and every write that answers the record carry an
  `ETag` header. The writes to one record of a `RecordViewSet` that answer that record
  (`PUT`, `PATCH` and state-change `POST`s) take `If-Match` and may answer 412; its read takes
  `If-None-Match` and may answer 304.
- Descriptions: an operation's own docstring (the method's, never one inherited from a base
  class or mixin), else a sentence for the standard actions (list, read, create, replace,
  update), else the view's own docstring. A filter without `help_text` is described from what
  it filters. A serializer's component takes its own docstring, else its model's.
- One tag per resource (the first path segment under `/api/v1/`), described by the view's own
  docstring (see `postprocess_tags`).
"""

from __future__ import annotations

import copy
import inspect
import re
from typing import Any

import django_filters
from django.conf import settings
from django.db import models
from drf_spectacular import openapi
from drf_spectacular.plumbing import get_view_model
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers

from api.v1.base import RecordViewSet
from api.v1.query import StrictQueryMixin

# Paths under this prefix are tagged and named without it (`patients_list`, tag `patients`).
PATH_PREFIX = r"/api/v[0-9]+"
STANDARD_ACTIONS = ("list", "retrieve", "create", "update", "partial_update")
WRITE_METHODS = ("POST", "PUT", "PATCH")
JSON = "application/json"
# Formats a blank-allowed field cannot claim (its "" breaks them): the pattern said instead.
BLANK_OR = {"email": r"^$|^[^@\s]+@[^@\s]+$"}
# Paths whose every error is in the `Error` shape.
ERROR_SHAPED_PREFIX = "/api/"


class FieldErrorSerializer(serializers.Serializer):
    """One failing field of a request."""

    field = serializers.CharField(
        allow_null=True,
        help_text="The body key (a dotted path such as `items.restlessness` for a nested "
        "value), the query parameter or the header that failed; null when the error is about "
        "the request as a whole.",
    )
    code = serializers.CharField(
        help_text="Stable, machine-readable reason, e.g. `required`, `invalid_choice`, "
        "`unknown_field`, `unknown_parameter`."
    )
    detail = serializers.CharField(help_text="The reason in words, for people.")


class ErrorSerializer(serializers.Serializer):
    """Every error answer: a stable code, a message, and one entry per failing field."""

    code = serializers.CharField(
        help_text="Stable, machine-readable code, e.g. `validation_error`, `not_found`, "
        "`stale_etag`."
    )
    detail = serializers.CharField(help_text="What went wrong, in words, for people.")
    errors = FieldErrorSerializer(
        many=True,
        help_text="One entry per failing field; empty when no single field is at fault.",
    )


def error_response(description: str) -> OpenApiResponse:
    """An error answer for `@extend_schema(responses={status: error_response("...")})`."""
    return OpenApiResponse(response=ErrorSerializer, description=description)


HEADERS = {
    "ETag": {
        "schema": {"type": "string"},
        "description": 'The record\'s version as a strong entity tag, e.g. `"v3"`. Send it '
        "back as `If-Match` to change the record only if nobody changed it since.",
    },
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds until the lockout ends.",
    },
    "WWW-Authenticate": {
        "schema": {"type": "string"},
        "description": 'The scheme to authenticate with: `Bearer realm="caseload"`.',
    },
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The `ETag` of the record as last read (a list of tags, or `*`, is "
    "allowed). If the record changed since, the answer is 412 `stale_etag` and nothing is "
    "written. Without it the write applies to the current version.",
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "An `ETag` from an earlier read (or `*`): while it is still current the "
    "answer is 304 with no body.",
}


# The errors an operation documents, by status (`AutoSchema._errors` picks those that apply).
ERRORS = {
    "401": "`not_authenticated`: no credentials were sent. `invalid_token`: the token is "
    "invalid, expired or revoked.",
    "403": "`permission_denied`: the caller's role may not do this to this record (or, for a "
    "browser session, the CSRF check failed); `errors` names the field when one value is the "
    "reason.",
    "404": "`not_found`: no {} with this id is visible to the caller. Another program's "
    "records, and patients off the caller's caseload, answer exactly like an id that does not "
    "exist.",
    "406": "`not_acceptable`: the `Accept` header names no format this serves.",
    "409": "The request conflicts with the record's current state or with another record, e.g. "
    "`illegal_transition`, `entered_in_error`, `unique`; `errors` names the field.",
    "412": "`stale_etag`: `If-Match` names no current version of the record; nothing was "
    "written. Read it again and retry.",
    "413": "`payload_too_large` (field `body`): the body is larger than the server accepts "
    "({} bytes unless configured).",
    "415": "`unsupported_media_type` or `unsupported_charset` (field `Content-Type`): send JSON "
    "in UTF-8.",
}


class AutoSchema(openapi.AutoSchema):
    # Operation -------------------------------------------------------------------------
    def get_tags(self) -> list[str]:
        return [resource_tag(self.path)]

    def get_operation_id(self) -> str:
        action = getattr(self.view, "action", None)
        if action and action not in STANDARD_ACTIONS and _is_viewset_action(self.view, action):
            # A custom action answers one method: its path names it (`appointments_no_show`).
            return "_".join(token.replace("-", "_") for token in self._tokenize_path())
        return super().get_operation_id()

    def get_description(self) -> str:
        action = getattr(self.view, "action", None) or self.method.lower()
        method = getattr(self.view, action, None)
        own = _own_doc(method) if method is not None else ""
        return own or self._standard_description(action) or _own_doc(type(self.view))

    def _standard_description(self, action: str) -> str:
        if action not in STANDARD_ACTIONS or self._model() is None:
            return ""
        one, many = _names(self._model())
        record = isinstance(self.view, RecordViewSet)
        return {
            "list": f"The {many} the caller may see, a page at a time. The query parameters "
            "below narrow the list.",
            "retrieve": f"One {one}."
            + (
                " Its `ETag` header carries its version: send it back as `If-Match` when "
                "changing it, or as `If-None-Match` to get 304 while it is unchanged."
                if record
                else ""
            ),
            "create": f"Record a new {one}. The answer is the {one} as stored"
            + (", with its `ETag`." if record else "."),
            "update": f"Send the {one} back with its changes: every required field; optional "
            "fields left out keep their values. Read-only fields may be sent back exactly as "
            "they were read; any other value for them is refused.",
            "partial_update": f"Change some fields of the {one}: only the fields sent change.",
        }[action]

    def _model(self) -> type[models.Model] | None:
        return getattr(self.view, "model", None) or get_view_model(self.view, emit_warnings=False)

    # Parameters ------------------------------------------------------------------------
    def _get_parameters(self) -> list[dict]:
        parameters = super()._get_parameters()
        if self._takes_if_match():
            parameters.append(copy.deepcopy(IF_MATCH))
        if self._takes_if_none_match():
            parameters.append(copy.deepcopy(IF_NONE_MATCH))
        return parameters

    def _get_filter_parameters(self) -> list[dict]:
        parameters = super()._get_filter_parameters()
        filterset_class = getattr(self.view, "filterset_class", None)
        model = self._model()
        if filterset_class is None or model is None:
            return parameters
        for parameter in parameters:
            description = parameter.get("description") or ""
            one = filterset_class.base_filters.get(parameter["name"])
            if one is None or (description and not description.startswith("* `")):
                continue
            sentence = describe_filter(parameter["name"], one, model)
            parameter["description"] = f"{sentence}\n\n{description}" if description else sentence
        return parameters

    # Responses -------------------------------------------------------------------------
    def _get_response_bodies(self, direction="response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, response in responses.items():
            if code in ("200", "201") and not response.get("description"):
                response["description"] = self._success_description()
            tagged = self._returns_record() or self._is_record_list()
            if code in ("200", "201") and (tagged or self._takes_if_none_match()):
                response.setdefault("headers", {})["ETag"] = copy.deepcopy(HEADERS["ETag"])
        if self._takes_if_none_match():
            responses.setdefault(
                "304",
                {
                    "description": "Not modified: `If-None-Match` names the current version.",
                    "headers": {"ETag": copy.deepcopy(HEADERS["ETag"])},
                },
            )
        for code, description in self._errors().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_response(description), code, media_types=[JSON]
                )
        for code, response in responses.items():
            if code in ("401", "429"):
                header = "WWW-Authenticate" if code == "401" else "Retry-After"
                response.setdefault("headers", {}).setdefault(
                    header, copy.deepcopy(HEADERS[header])
                )
        return dict(sorted(responses.items()))

    def _success_description(self) -> str:
        model = self._model()
        if getattr(self.view, "action", None) == "list" and model is not None:
            return f"A page of {_names(model)[1]}."
        if self._returns_record():
            return f"The {_names(model)[0]}."
        return "Done." if self.method in WRITE_METHODS else "OK."

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        model = self._model()
        for parameter in parameters:
            if parameter["name"] == "id" and model is not None:
                parameter["description"] = f"The {_names(model)[0]}'s id (a UUID)."
        return parameters

    def _errors(self) -> dict[str, str]:
        """Status -> description of every error this operation can give."""
        if not self.path.startswith(ERROR_SHAPED_PREFIX):
            return {}  # another interface (FHIR answers OperationOutcome) documents its own
        write = self.method in WRITE_METHODS
        candidates = [
            ("400", self._bad_request()),
            ("401", self._requires_authentication() and ERRORS["401"]),
            ("403", (write or self._checks_more_than_authentication()) and ERRORS["403"]),
            ("404", self._not_found()),
            ("406", ERRORS["406"]),
            (
                "409",
                write
                and (isinstance(self.view, RecordViewSet) or self._takes_if_match())
                and ERRORS["409"],
            ),
            ("412", self._takes_if_match() and ERRORS["412"]),
            ("413", write and ERRORS["413"].format(settings.CASELOAD_MAX_BODY_BYTES)),
            ("415", write and ERRORS["415"]),
        ]
        return {code: text for code, text in candidates if text}

    def _not_found(self) -> str:
        if re.search(r"\{\w+\}", self.path):
            one = _names(self._model())[0] if self._model() else "record"
            return ERRORS["404"].format(one)
        if getattr(self.view, "action", None) == "list":
            return "`invalid_page` (field `page`): the page does not exist."
        return ""

    def _bad_request(self) -> str:
        reasons = []
        if isinstance(self.view, StrictQueryMixin):
            reasons.append(
                "a query parameter the operation does not read (`unknown_parameter`), sent "
                "twice (`repeated_parameter`) or malformed"
            )
        if self.method in WRITE_METHODS:
            reasons.append("a field of the body")
        if self._takes_if_match() or self._takes_if_none_match():
            reasons.append("an `If-Match` or `If-None-Match` that is not a list of entity tags")
        if not reasons:
            return ""
        text = (
            "`validation_error`, with one entry in `errors` for each failing field: "
            + "; ".join(reasons)
            + "."
        )
        if self.method in WRITE_METHODS:
            text += " `parse_error`: the body is not valid JSON."
        return text

    # What the view does ----------------------------------------------------------------
    def _permissions(self) -> list:
        return list(self.view.get_permissions())

    def _requires_authentication(self) -> bool:
        return any(not isinstance(p, permissions.AllowAny) for p in self._permissions())

    def _checks_more_than_authentication(self) -> bool:
        simple = (permissions.AllowAny, permissions.IsAuthenticated)
        return any(type(p) not in simple for p in self._permissions())

    def _returns_record(self) -> bool:
        """Does the operation answer one record of a RecordViewSet (with its ETag)?"""
        if not isinstance(self.view, RecordViewSet):
            return False
        action = getattr(self.view, "action", None)
        if action in ("create", "retrieve", "update", "partial_update"):
            return True
        if action == "list" or not re.search(r"\{\w+\}", self.path):
            return False
        answered = self.get_response_serializers()
        if isinstance(answered, dict):
            answered = answered.get(200) or answered.get("200")
        answered = answered if inspect.isclass(answered) else type(answered)
        return answered is self.view.get_serializer_class()

    def _takes_if_match(self) -> bool:
        action = getattr(self.view, "action", None)
        if action in getattr(self.view, "if_match_actions", ()):
            return True  # a view outside RecordViewSet that checks If-Match on this action
        return (
            self.method in WRITE_METHODS
            and bool(re.search(r"\{\w+\}", self.path))
            and self._returns_record()
        )

    def _is_record_list(self) -> bool:
        """A page of a RecordViewSet list: it carries an ETag of its own (the page's content)."""
        return isinstance(self.view, RecordViewSet) and getattr(self.view, "action", None) == "list"

    def _takes_if_none_match(self) -> bool:
        action = getattr(self.view, "action", None)
        if action in getattr(self.view, "if_none_match_actions", ()):
            return True  # another action answering 304 to its ETag (a patient's history)
        return isinstance(self.view, RecordViewSet) and action in ("retrieve", "list")

    # Components ------------------------------------------------------------------------
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        wider = _stored_choices(field) if direction == "response" else None
        if wider is not None:
            # The field accepts fewer values than a record can hold (`status` is set on create
            # only to its first steps; the rest come from the transitions): an answer may carry
            # any of them, and a generated client must be able to read every one.
            field = copy.deepcopy(field)
            field.choices = wider
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if getattr(field, "allow_blank", False) and schema.get("format") in BLANK_OR:
            # An optional email is stored and answered as "" when there is none, which
            # `format: email` forbids: document "empty, or an email address" instead.
            schema["pattern"] = BLANK_OR[schema.pop("format")]

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response":
            _optional_for_some_callers(serializer, schema)
        if openapi.get_override(serializer, "description"):
            return schema
        description = _own_doc(type(serializer)) or _model_doc(serializer)
        if description:
            schema["description"] = description
        else:
            schema.pop("description", None)
        return schema


def resource_tag(path: str) -> str:
    """The resource an operation belongs to: the first path segment after the API prefix."""
    rest = re.sub(f"^{PATH_PREFIX}", "", path)
    segments = [s for s in rest.split("/") if s and not s.startswith("{")]
    return segments[0] if segments else "root"


def postprocess_tags(result: dict, generator, request, public) -> dict:
    """List each tag once, described by its view's own docstring (or its model's)."""
    descriptions = {tag["name"]: tag.get("description") for tag in result.get("tags", [])}
    for path, _regex, _method, callback in generator.endpoints or []:
        view_class = getattr(callback, "cls", None)
        if view_class is None:
            continue
        tag = resource_tag(path)
        model = getattr(view_class, "model", None)
        description = _own_doc(view_class) or _model_doc_of_class(model)
        if description and not descriptions.get(tag):
            descriptions[tag] = description
    used = sorted(
        {
            tag
            for operations in result["paths"].values()
            for op in operations.values()
            for tag in op.get("tags", [])
        }
    )
    result["tags"] = [
        {"name": tag, **({"description": descriptions[tag]} if tag in descriptions else {})}
        for tag in used
    ]
    return result


def describe_filter(name: str, one: django_filters.Filter, model: type[models.Model]) -> str:
    """A sentence for a filter that has no `help_text`: "Only appointments of this patient."."""
    _, many = _names(model)
    field = _model_field(model, one.field_name)
    label = str(field.verbose_name) if field is not None else name.replace("_", " ")
    if field is not None and field.primary_key:
        return f"Only the {_names(model)[0]} with this id (UUID)."
    target = field.related_model if field is not None and field.is_relation else None
    if (target is None and name == "patient") or (target and target._meta.model_name == "patient"):
        return f"Only {many} of this patient (the patient's id, a UUID)."
    if target is not None:
        return f"Only {many} whose {label} is the {_names(target)[0]} with this id (UUID)."
    if isinstance(one, django_filters.BooleanFilter):
        return f"`true`: only {many} that are {label}; `false`: only those that are not."
    if isinstance(one, django_filters.IsoDateTimeFilter | django_filters.DateTimeFilter):
        bound = {
            "gte": "at or after",
            "gt": "after",
            "lte": "at or before",
            "lt": "before",
        }.get(one.lookup_expr, "at")
        if one.field_name.endswith("_at"):  # updated_at: "updated at or after this time"
            event = one.field_name.removesuffix("_at").replace("_", " ")
            return f"Only {many} {event} {bound} this time (ISO 8601 with an offset)."
        return f"Only {many} whose {label} is {bound} this time (ISO 8601 with an offset)."
    if isinstance(one, django_filters.ChoiceFilter):
        return f"Only {many} with this {label}."
    if one.lookup_expr == "iexact":
        return f"Only {many} whose {label} is this, ignoring case."
    return f"Only {many} whose {label} is exactly this."


# Helpers --------------------------------------------------------------------------------


def _stored_choices(field) -> list | None:
    """The model field's choices when a ChoiceField accepts only some of them, else None."""
    if not isinstance(field, serializers.ChoiceField) or field.read_only:
        return None
    meta = getattr(getattr(field, "parent", None), "Meta", None)
    model_field = _model_field(getattr(meta, "model", None), field.source) if meta else None
    stored = getattr(model_field, "choices", None)
    if not stored or set(dict(stored)) <= set(field.choices):
        return None
    return list(stored)


# Fields some callers are not sent, by the serializer Meta attribute that names them.
_SOMETIMES_SENT = {
    "integration_hidden_fields": "Not sent to integration clients.",
    "supervisor_only_fields": "Sent to supervisors only.",
}


def _optional_for_some_callers(serializer, schema: dict) -> None:
    """Fields some callers are not sent (`Meta.integration_hidden_fields`,
    `Meta.supervisor_only_fields`) are not required in the answer, and say so."""
    meta = getattr(type(serializer), "Meta", None)
    for attribute, note in _SOMETIMES_SENT.items():
        hidden = getattr(meta, attribute, ())
        if not hidden:
            continue
        schema["required"] = [name for name in schema.get("required", []) if name not in hidden]
        if not schema["required"]:
            del schema["required"]
        for name in hidden:
            field = schema.get("properties", {}).get(name)
            if field is not None and note not in field.get("description", ""):
                field["description"] = (
                    f"{field['description']} {note}" if field.get("description") else note
                )


def _own_doc(obj) -> str:
    """The docstring written on `obj` itself: never one inherited from a base or mixin."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if doc else ""


def _model_doc(serializer) -> str:
    meta = getattr(type(serializer), "Meta", None)
    return _model_doc_of_class(getattr(meta, "model", None))


def _model_doc_of_class(model: type[models.Model] | None) -> str:
    """A model's own docstring, first paragraph; not the one Django writes for it."""
    if model is None:
        return ""
    doc = _own_doc(model)
    if not doc or doc.startswith(f"{model.__name__}("):
        return ""
    return doc.split("\n\n")[0].replace("\n", " ")


def _names(model: type[models.Model]) -> tuple[str, str]:
    """Singular and plural names for sentences ("case note", "case notes")."""
    if model is _user_model():
        return "staff member", "staff members"
    one, many = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
    return _acronyms(one), _acronyms(many)


def _acronyms(text: str) -> str:
    return re.sub(r"\bapi\b", "API", text)


def _model_field(model: type[models.Model] | None, name: str | None) -> models.Field | None:
    try:
        return model._meta.get_field(name) if model is not None and name else None
    except Exception:  # a filter on an annotation or a related path
        return None


def _user_model() -> type[models.Model]:
    from django.contrib.auth import get_user_model

    return get_user_model()


def _is_viewset_action(view, action: str) -> bool:
    method = getattr(view, action, None)
    return bool(getattr(method, "mapping", None))
