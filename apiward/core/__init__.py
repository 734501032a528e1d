"""The one model of an API that every apiward tool uses.

Load a document with :func:`load` (file or loopback URL), :func:`loads` (text)
or :func:`from_dict`; walk its :attr:`Document.operations`; find an operation
for a concrete request with :class:`Router`; report problems as :class:`Finding`.
"""

from apiward.core.document import Document
from apiward.core.findings import Evidence, Finding, Location, OperationRef, Owasp, Severity
from apiward.core.inline import inline
from apiward.core.loader import from_dict, load, loads
from apiward.core.model import (
    Header,
    MediaType,
    Operation,
    Parameter,
    RequestBody,
    Response,
    Schema,
    SecurityRequirement,
    SecurityScheme,
    Server,
)
from apiward.core.registry import Registry
from apiward.core.router import Match, Router
from apiward.core.schemas import SchemaIndex, SchemaNode, schema_types
from apiward.core.source import Limits

__all__ = [
    "Document",
    "Evidence",
    "Finding",
    "Header",
    "Limits",
    "Location",
    "Match",
    "MediaType",
    "Operation",
    "OperationRef",
    "Owasp",
    "Parameter",
    "Registry",
    "RequestBody",
    "Response",
    "Router",
    "Schema",
    "SchemaIndex",
    "SchemaNode",
    "SecurityRequirement",
    "SecurityScheme",
    "Server",
    "Severity",
    "from_dict",
    "inline",
    "load",
    "loads",
    "schema_types",
]
