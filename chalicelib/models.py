"""The base of every pydantic model of the platform, the text type every stored note has, and how a model's
validation errors become the details of a refusal: the API's routes and the ops command line share them.

Its validator is built the first time a model validates (or is documented), not when its module is
imported (`defer_build`): the API handler imports every route module, and building all the request
models up front cost each of its cold starts about 20 ms for models its requests may never use.
"""
from __future__ import annotations

import os

# The platform uses no pydantic plugins. Looking for them (at the first validator build) reads the
# metadata of every installed package: about 15 ms of a cold container's first request.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from typing import Annotated  # noqa: E402

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError  # noqa: E402
from pydantic_core import PydanticCustomError  # noqa: E402

from chalicelib.domain import idnumber  # noqa: E402


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)


def _no_id_number(value: str) -> str:
    if idnumber.contains_id_number(value):
        # the message does not repeat the value: it would put the number into the answer and its logs
        raise PydanticCustomError("contains_id_number",
                                  "must not contain a resident ID number: the platform never stores one")
    return value


# Every identifier and text a client sends that the platform stores, or shows to others, goes through this
# (docs/errors.md lists the fields): the ID number only ever arrives in an `id_number` field.
NoIdNumber = AfterValidator(_no_id_number)

Note = Annotated[str, Field(max_length=500), NoIdNumber]


def validation_details(exc: ValidationError, model: type[BaseModel] | None = None) -> list[dict[str, str]]:
    # a check across fields (a model validator) names the field it refuses as "field: message"
    names = {n for name, f in (model.model_fields.items() if model else ()) for n in (name, f.alias) if n}
    details = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(p) for p in err["loc"]) or "(body)"
        message = err["msg"].removeprefix("Value error, ")
        named, _, rest = message.partition(": ")
        if not err["loc"] and err["type"] == "value_error" and named in names and rest:
            field, message = named, rest
        details.append({"field": field, "message": message, "type": err["type"]})
    return details
