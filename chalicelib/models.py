"""The base of every pydantic model of the platform.

Its validator is built the first time a model validates (or is documented), not when its module is
imported (`defer_build`): the API handler imports every route module, and building all the request
models up front cost each of its cold starts about 20 ms for models its requests may never use.
"""
from __future__ import annotations

import os

# The platform uses no pydantic plugins. Looking for them (at the first validator build) reads the
# metadata of every installed package: about 15 ms of a cold container's first request.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pydantic import BaseModel, ConfigDict  # noqa: E402


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
