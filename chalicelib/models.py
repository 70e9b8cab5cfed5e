"""The base of every pydantic model of the platform.

Its validator is built the first time a model validates (or is documented), not when its module is
imported (`defer_build`): each Lambda of the app imports every route module, and building all the
request models up front cost every cold start about 20 ms for models its requests never use.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
