"""Graph output as the JSON LangGraph Server sends: messages and other pydantic models as
their fields, dataclasses (interrupts) as objects, tuples (named ones too) as lists."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from wayfarer import json_text


def jsonable(value: Any) -> Any:
    """The JSON LangGraph Server would send for a stream part: messages and other pydantic
    models as their fields, dataclasses (interrupts, tasks) as objects, tuples as lists. JSON
    writes a tuple itself, so a named tuple never reaches ``default``: it is a list too."""

    def default(obj: Any) -> Any:
        if isinstance(obj, BaseModel):
            return obj.model_dump()
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        if hasattr(obj, "_asdict"):  # record-like objects that are not tuples
            return obj._asdict()
        if isinstance(obj, (set, frozenset)):
            return sorted(obj, key=str)
        if isinstance(obj, datetime):
            return obj.isoformat()
        return str(obj)

    return json_text.loads(json_text.dumps(value, default=default))
